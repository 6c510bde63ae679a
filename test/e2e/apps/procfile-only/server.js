// A Procfile-only app: no package.json, so no Node.js build; the Procfile runs it with the stack's node.
const http = require('node:http');

http
  .createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`Powered by ${process.env.POWERED_BY || 'Deis'} (Procfile) release ${process.env.WORKFLOW_RELEASE}\n`);
  })
  .listen(Number(process.env.PORT));
