// A stand-in shaped like Nango's server (packages/server/lib/routes.ts, see /work/shared/research/nango.md §1):
// the same mount order, the same Express (5.1.0) and path syntax, the same kinds of answers, so that which handler
// a raw request target reaches is decided by Express itself. Nothing behind the handlers is real: the secret-key
// API and the dashboard API answer 401 JSON (no key and no session are ever valid here), the webapp answers its
// index.html for any other GET.
//
// Every request is recorded as "METHOD<TAB>handler<TAB>status<TAB>originalUrl" on a second listener
// (GET /seen, POST /reset), handler being api, dashboard, public or none (no route: Express's own 404/400).
//
// Usage: node server.js; prints "listening <app port> <control port>" once both listen on 127.0.0.1.
'use strict';
const http = require('node:http');
const express = require('express');

const seen = [];
const app = express();
app.disable('x-powered-by'); // helmet removes it in Nango
app.set('trust proxy', 1);

app.use((req, res, next) => {
    res.on('finish', () => seen.push([req.method, res.locals.handler || 'none', res.statusCode, req.originalUrl].join('\t')));
    next();
});

const as = (handler) => (req, res, next) => {
    res.locals.handler = handler;
    next();
};

const apiError = (res, status, code, message) => res.status(status).json({ error: { code, message } });

// Nango's secret-key check: the Authorization header first, then the key (none is known here).
const apiAuth = [
    as('api'),
    (req, res) => {
        const auth = req.get('authorization');
        if (!auth) {
            return apiError(res, 401, 'missing_auth_header', 'Authentication failed. The request is missing the Authorization header.');
        }
        return apiError(res, 401, 'unknown_account', 'No environment found matching the secret key.');
    }
];
// The dashboard API's session check.
const webAuth = [as('api'), (req, res) => apiError(res, 401, 'unauthorized', 'Not authenticated.')];

// routes.ts: no-auth operational routes
app.get('/health', as('api'), (req, res) => res.json({ result: 'ok' }));
app.get('/ready', as('api'), (req, res) => res.json({ result: 'ok' }));
app.get('/env.js', as('api'), (req, res) => res.type('application/javascript').send('window._env_ = {};\n'));
app.get('/providers.json', as('api'), (req, res) => res.json([]));

// /api/v1: the dashboard API
const web = express.Router();
web.get('/account', webAuth);
web.get('/meta', webAuth);
web.get('/environments', webAuth);
web.post('/account/signup', as('api'), (req, res) => apiError(res, 400, 'invalid_body', 'Invalid body.'));
app.use('/api/v1', web);

// /internal
const internal = express.Router();
internal.all('/{*splat}', apiAuth);
app.use('/internal', internal);

// routes.public.ts
const pub = express.Router();
pub.options('/{*splat}', as('public'), (req, res) => {
    res.set('Access-Control-Allow-Origin', '*').set('Access-Control-Allow-Methods', 'GET,HEAD,PUT,PATCH,POST,DELETE');
    res.status(204).end();
});
const callbackPage = '<!DOCTYPE html>\n<html><head><title>Authorization callback</title></head><body>\n'
    + '<script>window.opener && window.opener.postMessage({type: "nango_oauth_callback_error", error: "missing state"}, "*");'
    + 'new BroadcastChannel("nango-oauth-callback").postMessage({type: "nango_oauth_callback_error"});</script>\n'
    + '<noscript>Authorization failed: missing state.</noscript></body></html>\n';
pub.get('/oauth/callback', as('public'), (req, res) => res.status(200).type('html').send(callbackPage));
pub.get('/oauth/client-metadata/:environmentUuid/:providerConfigKey', as('public'),
    (req, res) => apiError(res, 404, 'unknown_provider_config', 'Unknown integration.'));
pub.get('/app-auth/connect', as('public'), (req, res) => res.status(200).type('html').send(callbackPage));
pub.get('/oauth/connect/:providerConfigKey', as('public'),
    (req, res) => apiError(res, 400, 'missing_connect_session_token', 'Missing connect session token.'));
pub.post(['/oauth2/auth/:providerConfigKey', '/auth/oauth-outbound/:providerConfigKey',
    '/api-auth/api-key/:providerConfigKey', '/api-auth/basic/:providerConfigKey',
    '/auth/:kind/:providerConfigKey'], as('public'),
    (req, res) => apiError(res, 400, 'missing_connect_session_token', 'Missing connect session token.'));
pub.post('/webhook/:environmentUuid/:providerConfigKey', as('public'),
    (req, res) => apiError(res, 404, 'unknown_environment', 'Unknown environment.'));
pub.get('/connect/session', as('public'), (req, res) => apiError(res, 401, 'invalid_connect_session_token', 'Invalid token.'));
pub.delete('/connect/session', apiAuth);
// the secret-key API
pub.get('/providers', apiAuth);
pub.get('/providers/:provider', apiAuth);
pub.get('/integrations', apiAuth);
pub.get('/config', apiAuth);
pub.get('/config/:providerConfigKey', apiAuth);
pub.post('/config', apiAuth);
pub.get('/connection/:connectionId', apiAuth);
pub.delete('/connection/:connectionId', apiAuth);
pub.post('/connection/:connectionId/metadata', apiAuth);
pub.get('/connections', apiAuth);
pub.get('/environment-variables', apiAuth);
pub.get('/records', apiAuth);
pub.post('/connect/sessions', apiAuth);
pub.post('/connect/sessions/reconnect', apiAuth);
pub.all('/mcp', apiAuth);
pub.all('/v1/*splat', apiAuth);
pub.all('/proxy{/*splat}', apiAuth);
app.use('/', pub);

// the webapp: any other GET is the single-page app's index.html
const dashboard = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>Nango</title>\n'
    + '<script src="/env.js"></script><script type="module" crossorigin src="/assets/index-3f9a1c.js"></script>\n'
    + '</head><body><div id="root"></div></body></html>\n';
app.get('/{*splat}', as('dashboard'), (req, res) => res.status(200).type('html').send(dashboard));

const control = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/seen') {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(seen.map((l) => l + '\n').join(''));
    } else if (req.method === 'POST' && req.url === '/reset') {
        seen.length = 0;
        res.end();
    } else {
        res.statusCode = 404;
        res.end();
    }
});

const server = http.createServer(app);
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
    control.listen(0, '127.0.0.1', () => {
        process.stdout.write('listening ' + server.address().port + ' ' + control.address().port + '\n');
    });
});
process.stdin.on('end', () => process.exit(0)); // the test closes stdin to stop it
process.stdin.resume();
