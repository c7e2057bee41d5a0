// The `nginx` image of the table: no nginx runs here, so a few lines of Node serve what a fresh
// nginx container serves — its default page on port 80 (GET and HEAD of / and /index.html, 404
// otherwise, with nginx's Server header) — enough for the tests and examples that use nginx as
// "some web server" (kubernetes-client/python's port-forward test reads "Welcome to nginx!").
// Port 80 needs the node to run as root or a lowered net.ipv4.ip_unprivileged_port_start; pods
// share the machine's network, so only one such pod can listen at a time.

const DEFAULT_PAGE = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

/** The stand-in's program, for `node -e`; it takes (and ignores) nginx's own arguments. */
export const NGINX_STAND_IN = `
const page = ${JSON.stringify(DEFAULT_PAGE)};
require('http').createServer((req, res) => {
  res.setHeader('Server', 'nginx');
  const found = req.url === '/' || req.url === '/index.html';
  res.writeHead(found ? 200 : 404, { 'Content-Type': 'text/html' });
  res.end(req.method === 'HEAD' ? undefined : found ? page : '<html><head><title>404 Not Found</title></head></html>\\n');
}).listen(80, () => console.log('nginx stand-in listening on port 80'));
`;
