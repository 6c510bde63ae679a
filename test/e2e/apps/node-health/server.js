// The health tests' sample app: `/health` answers 200 until `/sicken` makes it fail while the port stays open and `/`
// keeps serving (a hung process, as a liveness probe sees it); `/exit` makes the process exit with code 3 (a crash).
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 5000);
let sick = false;
const server = http.createServer((request, response) => {
  response.setHeader('content-type', 'text/plain');
  if (request.url === '/health') {
    response.statusCode = sick ? 500 : 200;
    response.end(sick ? 'sick\n' : 'healthy\n');
    return;
  }
  if (request.url === '/sicken') {
    sick = true;
    response.end(`sick on ${os.hostname()}\n`);
    return;
  }
  if (request.url === '/exit') {
    response.end(`exiting on ${os.hostname()}\n`, () => process.exit(3));
    return;
  }
  response.end(`Served by ${os.hostname()} pid ${process.pid}\n`);
});
server.listen(port, () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
