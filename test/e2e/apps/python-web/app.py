"""A web app for the Python buildpack, with a dependency from the package index."""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

import six


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        powered = os.environ.get("POWERED_BY", "Deis")
        body = f"Powered by {powered} (Python, six {six.__version__}) release {os.environ.get('WORKFLOW_RELEASE')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("", int(os.environ["PORT"])), Handler).serve_forever()
