/**
 * Public keys made with `ssh-keygen` for the tests, each with the fingerprint `ssh-keygen -l -E md5` printed for it,
 * so that the tests check our parsing and fingerprints against OpenSSH's own.
 * @module
 */

export interface SampleKey {
  public: string;
  fingerprint: string;
}

export const RSA_KEY: SampleKey = {
  public:
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCXadmbcAyL6O/8Ro9ARbbHC/3Ck2PcG4xi2jleFfIOIbEgenXYrkMgeALCURdUBn/qTReKI01UrgstGdGzqqLaAeNs6UQIv4l6KBaxcz/yqvq0cToCDkdL36ncqrjyeaCM5badxoqv54UbsI4ogN7P5c9BFbG4K6KvZu4M1uuqMtwwctPgxvn3aapTyzXK7x7uEESL1sr4RcvKsrxOHhjozjloutsU2oIOJSWosKvU3tkdkPoARphbDDuFv1tV8dxlNVG9rkfIqxMmdg/+bs/OfIn9fp1MsBT8Zy2XUa0N9FREoOkN8aUkXoIO7st/8IGCq0aybjcs/eaNaQo4uknn tester@h1',
  fingerprint: '0d:76:d2:72:3b:92:e4:c0:36:bb:69:05:66:5b:22:79',
};

export const RSA_KEY_2: SampleKey = {
  public:
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCNexo+VWqy3uHOFSoVOhnl0T8Jo6pFAE7qOQg9rBmmoFGoaseHuN+6vF2G7u4EJQwED/Ll6cTNGZeRiWNuY9XGLbn6JvY+AYqCcQAkZgcGYcoWZ78BLaLMdAxM+UNoDVmhJzp+QmgeMaZ8FZqbBD8vlYwZNjpp2/8Am/dcMBElzdcdN+XkPH8HMsXN/+YTaCtthJqiC+1hfKNw8MIn7OBM4qq1yYvMWU0h1KuVXxtGBUkJmfla/AwnJ+fHkOAbw4yYdKxvk3uC/+9+KaU5ZSl7hoJPmlJYjnL1EEdRiWvEPCewg0W/AW42e4rR5g5z3EtWiKSbZUDDSXXMghzLtkxUiAcGhSgxcab4FnnbZKPiqZuoycHpqiPeY+i5VsN4hZ5paoOeVnzu3ZKX8JTfGH/mWSR/31HQmqlQsIyxMglzcbP636vOjEPws4tlquShlPrlhr/yIN4kMxriC0pME3sYRhf7pAeA9LxoZb7ICNu1Om7m8hUoVF/uepcC4lRbeL0= second@h1',
  fingerprint: '0a:d5:90:b9:6e:d6:0a:75:97:e7:66:d7:2f:10:af:85',
};

export const ED25519_KEY: SampleKey = {
  public: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJaFFtGfDz3nFH4NsxX/MBluv8d4o25xIFM79pnk9CO5 tester@h1',
  fingerprint: '3f:ba:f7:f8:99:9e:de:49:91:4c:bc:d5:29:13:61:93',
};

export const ED25519_KEY_2: SampleKey = {
  public: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHKoUvg4oziC30aFS8euMG2Rpg5TNnaIduS4kniaeXP second@h1',
  fingerprint: '6a:72:66:45:ee:e8:12:3c:80:bc:e2:95:89:6c:88:31',
};

export const ECDSA_P256_KEY: SampleKey = {
  public:
    'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFdv94QHllNZ4MU3Iv6F8EBE52kchf4dX6lRwwYXks077so1g6vlB/T7IjBcL5rm6u2GbLX22DPf+dblyCOvLXU= tester@h1',
  fingerprint: 'a5:f3:2e:55:63:67:18:18:2b:fb:b6:db:69:44:ad:72',
};

export const ECDSA_P384_KEY: SampleKey = {
  public:
    'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBAne9bbMjhpy2kQ81cKCGiLrxeBO1PGQepWBCzRLVPG9h23dTqchFWFEn4ghfeMW8bQEPmTN1tL1aBDc7gCAbDi5cZqIgvVloZeKS0hE+hu6SnlWfSDL3XHYSLjF8rFYgQ== tester@h1',
  fingerprint: '3b:e2:27:b6:ed:97:56:e1:93:14:92:4d:2a:fa:4e:0b',
};

export const ECDSA_P521_KEY: SampleKey = {
  public:
    'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBABamVtzZwb63+VWXsUxE/Jw6DHzIMQt4AVONdLxcnZoTZQ2ALV4cdbNoIH8JWnifaSWPZkwFI0dYrCExPvGOVV4DwANOHZNKg4Fl/1FT549iLBeyx0A/aggRM+9HoaUIrU4P+M2QXmW7WRQ6z4/kf/FFSxQYugOgboaw4WubNqKbR+cOg== tester@h1',
  fingerprint: '8a:83:07:56:24:63:25:96:ee:0b:e7:82:ab:ed:91:5c',
};

/** The start of a DSA key (valid base64): a key type the platform refuses. */
export const DSA_KEY_LINE = 'ssh-dss AAAAB3NzaC1kc3MAAACBAI/e03+4WBVsU71cWvjdhIpac7yz+SRbXxZieai3rxq8V1HhlL+51bfftByxMoDH tester@h1';
