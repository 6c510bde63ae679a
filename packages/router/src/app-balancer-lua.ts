/**
 * The Lua that lets nginx change an app's containers without a reload (ADR 0009). A reload replaces nginx's workers,
 * and a retiring worker closes its idle kept-alive client connections, which a client that sent its next request at
 * that moment sees as a reset. Deploys and scaling change only which containers serve an app, so that part of the
 * routing table lives in a shared memory zone instead of the configuration: the router writes it through a socket
 * only it can reach, and every worker reads it on every request.
 *
 * What the zone holds: `app:<name>` → the app's container addresses, space separated (`10.0.0.2:5000 [fd00::2]:5000`),
 * and `generation` → the routing table generation it came from. A worker keeps its own parsed copy per app and
 * parses again when the text changes.
 * @module
 */

/** The shared memory zone of app → containers; it outlives reloads, so the peers need not be written again after one. */
export const PEER_ZONE = 'deis_peers';

/** How long a container whose connect failed is passed over by a worker, as `max_fails=1 fail_timeout=5s` did. */
const FAILED_PEER_SECONDS = 5;

/** Loaded once per configuration, in nginx's master, by `init_by_lua_block`; the workers inherit it. */
export const APP_BALANCER_LUA = `
local balancer = require "ngx.balancer"
local peers_zone = ngx.shared.${PEER_ZONE}
local router = {}
local parsed = {}
local failed_until = {}

local function parse(text)
  local peers = {}
  for address in text:gmatch("%S+") do
    local host, port = address:match("^%[?([^%]]+)%]?:(%d+)$")
    if host then peers[#peers + 1] = { host = host, port = tonumber(port), key = address } end
  end
  return peers
end

local function peers_of(app)
  local text = peers_zone:get("app:" .. app)
  if not text then
    parsed[app] = nil
    return nil
  end
  local entry = parsed[app]
  if not entry or entry.text ~= text then
    local peers = parse(text)
    entry = { text = text, peers = peers, next = #peers > 0 and math.random(#peers) or 1 }
    parsed[app] = entry
  end
  if #entry.peers == 0 then return nil end
  return entry
end

function router.check()
  if not peers_of(ngx.var.deis_app) then return ngx.exit(503) end
end

function router.balance()
  local ctx = ngx.ctx
  local now = ngx.now()
  local entry = ctx.deis_entry
  if entry then
    local state = balancer.get_last_failure()
    if state == "failed" and ctx.deis_peer then failed_until[ctx.deis_peer.key] = now + ${FAILED_PEER_SECONDS} end
  else
    entry = peers_of(ngx.var.deis_app)
    if not entry then return ngx.exit(503) end
    ctx.deis_entry = entry
    if #entry.peers > 1 then balancer.set_more_tries(math.min(#entry.peers, 3) - 1) end
  end
  local peers = entry.peers
  local count = #peers
  local chosen, fallback
  for _ = 1, count do
    local peer = peers[entry.next]
    entry.next = entry.next % count + 1
    if peer ~= ctx.deis_peer or count == 1 then
      if (failed_until[peer.key] or 0) <= now then
        chosen = peer
        break
      end
      fallback = fallback or peer
    end
  end
  chosen = chosen or fallback or peers[1]
  ctx.deis_peer = chosen
  local ok, err = balancer.set_current_peer(chosen.host, chosen.port)
  if not ok then
    ngx.log(ngx.ERR, "deis router: cannot use ", chosen.key, ": ", err)
    return ngx.exit(502)
  end
end

function router.update()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    ngx.status = 400
    ngx.say("no body, or one too large for memory")
    return ngx.exit(400)
  end
  local generation
  local seen = {}
  for line in body:gmatch("[^\\n]+") do
    local name, rest = line:match("^(%S+)%s*(.*)$")
    if name == "generation" then
      generation = rest
    elseif name then
      local key = "app:" .. name
      seen[key] = true
      local ok, err = peers_zone:safe_set(key, rest)
      if not ok then
        ngx.status = 507
        ngx.say("the peer zone is full: ", err)
        return ngx.exit(507)
      end
    end
  end
  for _, key in ipairs(peers_zone:get_keys(0)) do
    if key:sub(1, 4) == "app:" and not seen[key] then peers_zone:delete(key) end
  end
  if generation then peers_zone:safe_set("generation", generation) end
  ngx.say("ok")
end

function router.health(revision, generation_header, revision_header)
  ngx.header["Content-Type"] = "text/plain"
  ngx.header[generation_header] = peers_zone:get("generation") or "0"
  ngx.header[revision_header] = revision
  ngx.say("OK")
end

return router
`;
