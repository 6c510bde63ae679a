// The end-to-end tests' sample app: says who serves it, so tests can tell releases and containers apart.
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 5000);
const server = http.createServer((request, response) => {
  if (request.url === '/headers') {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(request.headers));
    return;
  }
  response.setHeader('content-type', 'text/plain');
  response.end(`Powered by ${process.env.POWERED_BY || 'Deis'}\nRelease ${process.env.WORKFLOW_RELEASE} on ${os.hostname()}\n`);
});
server.listen(port, () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
