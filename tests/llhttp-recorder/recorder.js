'use strict';
// What llhttp reads, for the differential fuzz tests (tests/src/test/java/nangogateway/tests/fuzz). Plain node:http,
// no packages. Two servers on 127.0.0.1, their ports printed as one line, "ports <upstream> <control>":
//
//   upstream  a node:http server standing in for Nango behind the gateway. Every request it reads is recorded
//             (method, raw url, version, rawHeaders, body, rawTrailers, and how it ended: a whole request, one cut
//             off before its end, a CONNECT taken as a tunnel) and answered 200 with X-Recorder-Seq; every parse
//             error (clientError) is recorded with its code and the bytes that failed.
//   control   POST /parse-request      the body is a client's byte stream: llhttp's reading of it, as Node's
//                                      server would read it off one connection (request parser, strict, no
//                                      lenient flags), messages then how the reading ended
//             POST /parse-response?method=GET|HEAD
//                                      the body is an upstream's byte stream: llhttp's reading of it as Node's
//                                      http client reads a response (1xx skipped, HEAD has no body)
//             GET /records             every record of the upstream server since the last call, once no connection
//                                      to it is open (the caller closes the gateway first), then forgets them
//
// Output is text, one item a line, fields separated by a space; bytes are base64, '-' when empty. See
// LlhttpRecorder.java for the reader.

const http = require('node:http');
const { HTTPParser } = require('node:_http_common');

// The parser names a request's method by llhttp's method number: every method llhttp knows, RTSP's included.
const METHODS = (() => {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const all = process.binding('http_parser').allMethods;
    if (Array.isArray(all) && all.length) return all;
  } catch (e) {
    // not there: llhttp's own table follows
  } finally {
    process.noDeprecation = quiet;
  }
  return ['DELETE', 'GET', 'HEAD', 'POST', 'PUT', 'CONNECT', 'OPTIONS', 'TRACE', 'COPY', 'LOCK', 'MKCOL', 'MOVE',
    'PROPFIND', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'BIND', 'REBIND', 'UNBIND', 'ACL', 'REPORT', 'MKACTIVITY',
    'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PATCH', 'PURGE', 'MKCALENDAR', 'LINK',
    'UNLINK', 'SOURCE', 'PRI', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER',
    'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH', 'QUERY'];
})();

const b64 = (v) => {
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v == null ? '' : String(v), 'latin1');
  return b.length === 0 ? '-' : b.toString('base64');
};
const pairs = (list) => {
  const a = list || [];
  let s = String(a.length / 2);
  for (const x of a) s += ' ' + b64(x);
  return s;
};

// ---- llhttp's reading of a byte stream ----

/** Header size limit for the direct reading: large, so sizes (the gateway's own checks) never decide here. */
const DIRECT_MAX_HEADER = 1 << 20;
/** Methods llhttp knows only for RTSP, and PRI (HTTP/2's preface): refused in an HTTP/1.x request line. */
const NOT_HTTP1 = new Set(['PRI', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER',
  'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH']);
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** One llhttp parser over the whole of buf in one execute, as Node's server or client reads a socket's bytes. */
function parseOnce(kind, buf, method) {
  const p = new HTTPParser();
  p.initialize(kind, {}, DIRECT_MAX_HEADER, HTTPParser.kLenientNone);
  const msgs = [];
  let pendingHeaders = [];
  let pendingUrl = '';
  let cur = null;
  p[HTTPParser.kOnMessageBegin] = () => {};
  p[HTTPParser.kOnHeaders] = (h, u) => {
    pendingHeaders = pendingHeaders.concat(h);
    pendingUrl += u;
  };
  p[HTTPParser.kOnHeadersComplete] = (major, minor, h, m, u, status, reason, upgrade, keepAlive) => {
    if (h === undefined) {
      h = pendingHeaders;
      pendingHeaders = [];
    }
    if (u === undefined) {
      u = pendingUrl;
      pendingUrl = '';
    }
    cur = { major, minor, headers: h, method: kind === HTTPParser.REQUEST ? METHODS[m] : '', url: u,
      status, reason: reason || '', upgrade, keepAlive, body: [], trailers: [], complete: false, refused: false };
    msgs.push(cur);
    if (kind === HTTPParser.RESPONSE) {
      // As Node's http client (parserOnIncomingClient): an upgrade skips the body, a 1xx is interim, a HEAD's
      // response and a 304 have no body.
      if (upgrade) return 2;
      if (status >= 100 && status < 200 && status !== 101) return 1;
      if (method === 'HEAD' || status === 304) return 1;
    }
    return 0;
  };
  p[HTTPParser.kOnBody] = (b) => { cur.body.push(Buffer.from(b)); };
  p[HTTPParser.kOnMessageComplete] = () => {
    if (pendingHeaders.length) {
      cur.trailers = pendingHeaders;
      pendingHeaders = [];
      pendingUrl = '';
    }
    cur.complete = true;
  };
  p[HTTPParser.kOnExecute] = () => {};
  const ret = p.execute(buf);
  const fin = ret instanceof Error || ret < buf.length ? undefined : p.finish();
  return { msgs, ret, fin };
}

/** Where the n-th request of buf starts (after the empty lines llhttp skips before a request line). */
function requestStart(buf, n) {
  let lo = 0;
  let hi = buf.length;
  if (n > 0) {
    // the shortest prefix holding n whole requests ends the (n-1)-th
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = parseOnce(HTTPParser.REQUEST, buf.subarray(0, mid));
      if (r.msgs.filter((m) => m.complete).length >= n) hi = mid; else lo = mid + 1;
    }
  }
  let s = n > 0 ? lo : 0;
  while (s < buf.length && (buf[s] === 13 || buf[s] === 10)) s++;
  return s;
}

/**
 * llhttp's reading of a whole stream: the messages, then how it ended. A request whose method llhttp refuses in
 * HTTP/1.x (a token it does not know, RTSP's, PRI) or takes as a tunnel (CONNECT) ends Node's reading of the
 * connection; the gateway may still answer such a request itself and read on, so the reading goes on past it as if
 * its method were GET, and the request is marked: llhttp would not have read it, and Node must never be sent it.
 */
function read(kind, buf, method) {
  const msgs = [];
  let data = buf;
  let base = 0; // where data starts in buf, for the offsets reported
  let refusedNext = null;
  /** Messages (by number) read past whitespace in a chunk line that llhttp refuses and RFC 9112 allows. */
  const bws = new Set();
  let end = null;
  const take = (list) => {
    for (const m of list) {
      if (refusedNext !== null) {
        m.method = refusedNext;
        m.refused = true;
        refusedNext = null;
      }
      m.bws = bws.has(msgs.length);
      msgs.push(m);
    }
  };
  /** Whether the byte at i, SP or HTAB, is in a chunk line's extensions: hex digits, then ';' extensions. */
  const inChunkExtension = (d, i) => {
    if (d[i] !== 32 && d[i] !== 9) return false;
    const from = d.lastIndexOf(10, i) + 1;
    const cr = d.indexOf(13, i);
    if (cr < 0) return false;
    const line = d.subarray(from, cr).toString('latin1');
    return /^[0-9A-Fa-f]+[ \t]*;/.test(line) || /^[0-9A-Fa-f]+[ \t]*$/.test(line.slice(0, i - from + 1))
      && line.slice(i - from).trimStart().startsWith(';');
  };
  const resync = (n, token) => {
    // the n-th request of data, whose method is token, is read again as a GET
    const s = requestStart(data, n);
    const rest = data.subarray(s + token.length);
    base += s + token.length - 3;
    data = Buffer.concat([Buffer.from('GET'), rest]);
    refusedNext = token;
  };
  while (end === null) {
    const r = parseOnce(kind, data, method);
    const done = r.msgs.filter((m) => m.complete);
    if (r.ret instanceof Error) {
      const code = r.ret.code;
      let token = null;
      if (kind === HTTPParser.REQUEST && ['HPE_INVALID_METHOD', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION']
        .includes(code) && r.msgs.length === done.length) {
        const s = requestStart(data, done.length);
        const sp = data.indexOf(32, s);
        const t = sp > s ? data.subarray(s, sp).toString('latin1') : '';
        if (TCHAR.test(t) && (code === 'HPE_INVALID_METHOD' ? !METHODS.includes(t) : NOT_HTTP1.has(t))) {
          token = t;
        }
      }
      const at = r.ret.bytesParsed - 1;
      if (token !== null) {
        take(done);
        resync(done.length, token);
      } else if (kind === HTTPParser.REQUEST && ['HPE_STRICT', 'HPE_INVALID_CHUNK_SIZE'].includes(code) && at >= 0
        && r.msgs.length > 0 && !r.msgs[r.msgs.length - 1].complete && inChunkExtension(data, at)) {
        // BWS in a chunk extension (RFC 9112 section 7.1.1): read again without that byte, the message marked
        bws.add(msgs.length + r.msgs.length - 1);
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1)]);
      } else {
        take(r.msgs);
        end = ['error', code, base + r.ret.bytesParsed];
      }
    } else if (r.ret < data.length) {
      const last = r.msgs[r.msgs.length - 1];
      if (kind === HTTPParser.REQUEST && last && last.method === 'CONNECT') {
        take(r.msgs.slice(0, -1));
        resync(r.msgs.length - 1, 'CONNECT');
      } else if (kind === HTTPParser.REQUEST && last && last.upgrade) {
        take(r.msgs); // no 'upgrade' listener: Node's parser resumes after the upgrade on the next bytes
        data = data.subarray(r.ret);
        base += r.ret;
      } else {
        take(r.msgs);
        end = [kind === HTTPParser.RESPONSE && last && last.upgrade ? 'upgrade' : 'stopped', '', base + r.ret];
      }
    } else {
      take(r.msgs);
      end = r.fin instanceof Error ? ['eof-in-message', r.fin.code, buf.length] : ['eof', '', buf.length];
    }
  }
  let out = '';
  for (const m of msgs) {
    out += ['m', m.complete ? 1 : 0, m.upgrade ? 1 : 0, m.keepAlive ? 1 : 0, m.refused ? 1 : 0, m.bws ? 1 : 0,
      m.major + '.' + m.minor, b64(m.method), b64(m.url), m.status || 0, b64(m.reason), b64(Buffer.concat(m.body)),
      pairs(m.headers), pairs(m.trailers)].join(' ') + '\n';
  }
  out += ['e', end[0], b64(end[1]), end[2]].join(' ') + '\n';
  return out;
}

// ---- the upstream: Node's server, recording what it reads ----

let seq = 0;
let records = [];
let open = 0;
let socketIds = 0;

const upstream = http.createServer((req, res) => {
  const rec = { seq: ++seq, kind: 'aborted', sock: req.socket.__id, req, body: [] };
  req.socket.__last = req.headers['x-forwarded-for'] || '';
  records.push(rec);
  req.on('data', (d) => rec.body.push(Buffer.from(d)));
  req.on('end', () => {
    rec.kind = 'request';
    res.writeHead(200, { 'X-Recorder-Seq': String(rec.seq), 'Content-Type': 'text/plain' });
    res.end('recorded ' + rec.seq + '\n');
  });
});
upstream.on('connection', (socket) => {
  socket.__id = ++socketIds;
  open++;
  socket.on('close', () => { open--; });
});
upstream.on('connect', (req, socket, head) => {
  records.push({ seq: ++seq, kind: 'connect', sock: socket.__id, req, body: [head] });
  socket.destroy(); // as Node does without a 'connect' listener (Nango has none)
});
upstream.on('clientError', (err, socket) => {
  records.push({ seq: ++seq, kind: 'clientError', sock: socket.__id, code: err.code || String(err),
    raw: err.rawPacket || Buffer.alloc(0), last: socket.__last || '' });
  if (socket.writable) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); // Node's own answer
  }
  socket.destroy();
});

function recordLine(r) {
  if (r.kind === 'clientError') {
    return ['c', r.seq, r.kind, r.sock, b64(r.code), b64(r.raw), b64(r.last)].join(' ');
  }
  const q = r.req;
  return ['r', r.seq, r.kind, r.sock, b64(q.headers['x-forwarded-for']), b64(q.headers['x-request-id']),
    b64(q.method), b64(q.url), q.httpVersion, b64(Buffer.concat(r.body)), pairs(q.rawHeaders),
    pairs(q.rawTrailers)].join(' ');
}

// ---- control ----

const control = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const url = new URL(req.url, 'http://control');
    const text = (s) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(s);
    };
    if (url.pathname === '/parse-request') {
      text(read(HTTPParser.REQUEST, Buffer.concat(chunks)));
    } else if (url.pathname === '/parse-response') {
      text(read(HTTPParser.RESPONSE, Buffer.concat(chunks), url.searchParams.get('method') || 'GET'));
    } else if (url.pathname === '/records') {
      const started = Date.now();
      const answer = () => {
        if (open > 0 && Date.now() - started < 30000) {
          setTimeout(answer, 5);
          return;
        }
        const out = records;
        records = [];
        text((open > 0 ? 'open ' + open + '\n' : '') + out.map(recordLine).join('\n') + (out.length ? '\n' : ''));
      };
      answer();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
});

upstream.listen(0, '127.0.0.1', () => {
  control.listen(0, '127.0.0.1', () => {
    console.log('ports ' + upstream.address().port + ' ' + control.address().port);
  });
});
