// A web app for the Node.js buildpack, with a dependency from the npm registry.
const express = require('express');

const app = express();
app.get('/', (req, res) => {
  const powered = process.env.POWERED_BY || 'Deis';
  res.type('text/plain').send(`Powered by ${powered} (Node.js ${process.version}, express ${require('express/package.json').version}) release ${process.env.WORKFLOW_RELEASE}\n`);
});
app.listen(Number(process.env.PORT));
