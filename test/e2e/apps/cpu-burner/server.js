// The autoscaling end-to-end test's sample app: `GET /burn?ms=N` makes this container keep a core busy for N
// milliseconds (at most a minute), in slices so that it still answers meanwhile; the load ends by itself.
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 5000);
let burnUntil = 0;

function burn() {
  const sliceEnd = Math.min(Date.now() + 50, burnUntil);
  while (Date.now() < sliceEnd);
  if (Date.now() < burnUntil) setImmediate(burn);
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url, 'http://app');
  if (url.pathname === '/burn') {
    const wasIdle = Date.now() >= burnUntil;
    burnUntil = Date.now() + Math.min(Number(url.searchParams.get('ms')) || 0, 60_000);
    if (wasIdle) setImmediate(burn);
  }
  response.setHeader('content-type', 'text/plain');
  response.end(`${Date.now() < burnUntil ? 'burning' : 'idle'} on ${os.hostname()}\n`);
});
server.listen(port, () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
