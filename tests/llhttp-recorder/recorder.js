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
 * llhttp's reading of a whole stream: the messages, then how it ended. Where llhttp stops on something the gateway
 * may take, by design, the reading goes on past it, and the message is marked, so what follows still has
 * llhttp's reading to be held to:
 *   refused   a request whose method llhttp refuses in HTTP/1.x (a token it does not know, RTSP's, PRI) or takes
 *             as a tunnel (CONNECT): read on as if its method were GET. Node must never be sent it; the gateway
 *             may answer it itself and read on.
 *   bws       whitespace in a chunk line's extensions (RFC 9112 section 7.1.1's BWS), which llhttp refuses: read
 *             on without it. The gateway reads the extension and drops it, re-framing the body.
 *   trailer   a trailer naming the framing (Content-Length, Transfer-Encoding: llhttp fails) or the connection
 *             (Connection: close: llhttp reads no further): read on without it. The gateway drops trailers.
 *   proxy-connection
 *             a Proxy-Connection header, which llhttp reads as Connection (close: it reads no further): read on
 *             without it. The gateway drops it as hop-by-hop, and its keep-alive follows Connection alone.
 */
function read(kind, buf, method) {
  const msgs = [];
  let data = buf;
  let base = 0; // where data starts in buf, for the offsets reported
  let refusedNext = null;
  /** Marks by message number (bws, trailer). */
  const marks = new Map();
  const mark = (i, what) => {
    if (!marks.has(i)) marks.set(i, new Set());
    marks.get(i).add(what);
  };
  let end = null;
  const take = (list) => {
    for (const m of list) {
      if (refusedNext !== null) {
        m.method = refusedNext;
        m.refused = true;
        refusedNext = null;
      }
      m.marks = marks.get(msgs.length) || new Set();
      msgs.push(m);
    }
  };
  const lineAround = (d, i) => {
    const from = i > 0 ? d.lastIndexOf(10, i - 1) + 1 : 0; // (a negative offset would count from the end)
    const lf = d.indexOf(10, i);
    return { from, to: lf < 0 ? d.length : lf + 1, text: d.subarray(from, lf < 0 ? d.length : lf).toString('latin1') };
  };
  /**
   * Whether the byte at i, SP or HTAB, is BWS in a chunk line's extensions as RFC 9112 section 7.1.1 places it:
   * before a ';', or around the '=' of a name and value (chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )).
   * Whitespace elsewhere (at the end of the line, inside a name) is not BWS, and the gateway refuses it too.
   */
  const inChunkExtension = (d, i) => {
    if (d[i] !== 32 && d[i] !== 9) return false;
    const l = lineAround(d, i);
    if (!l.text.endsWith('\r')) return false;
    const line = l.text.slice(0, -1);
    const at = i - l.from;
    if (!/^[0-9A-Fa-f]+[ \t]*;/.test(line)) return false;
    const before = line.slice(0, at).trimEnd();
    const after = line.slice(at).trimStart();
    return after.startsWith(';') || after.startsWith('=') || before.endsWith(';') || before.endsWith('=');
  };
  /** The trailer lines (from, to) of the chunked message whose trailer section holds offset i, or null. */
  const trailerLines = (d, i) => {
    const lines = [];
    let l = lineAround(d, i);
    while (l.from > 0) {
      if (/^0+(;.*)?\r$/.test(l.text)) return lines;
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:.*\r$/.test(l.text)) return null;
      lines.push(l);
      l = lineAround(d, l.from - 1);
    }
    return null;
  };
  const FRAMING = /^(content-length|transfer-encoding|connection)\s*:/i;
  const FIELD_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:.*\r$/;
  /**
   * The framing trailer lines, last first, of the trailer section holding offset i: the field lines after a
   * last-chunk line ("0", extensions allowed) up to the empty line. Null when i is not in one.
   */
  const framingTrailersAround = (d, i) => {
    let l = lineAround(d, i);
    if (!FIELD_LINE.test(l.text)) return null;
    let first = l;
    for (;;) {
      if (first.from === 0) return null;
      const before = lineAround(d, first.from - 1);
      if (/^0+(;.*)?\r$/.test(before.text)) break;
      if (!FIELD_LINE.test(before.text)) return null;
      first = before;
    }
    const found = [];
    for (l = first; l.to <= d.length; l = lineAround(d, l.to)) {
      if (l.text === '\r') return found.reverse();
      if (!FIELD_LINE.test(l.text) || l.to === d.length) return found.length ? found.reverse() : null;
      if (FRAMING.test(l.text)) found.push(l);
    }
    return null;
  };
  const cut = (from, to) => {
    data = Buffer.concat([data.subarray(0, from), data.subarray(to)]);
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
    const last = r.msgs[r.msgs.length - 1];
    let framing = null;
    if ((r.ret instanceof Error || r.ret < data.length) && last && !last.complete
      && last.headers.some((x, j) => j % 2 === 0 && x.toLowerCase() === 'transfer-encoding')) {
      // llhttp fails on a trailer naming the framing or the connection (or, in an upgrade, stops at it)
      const at = (r.ret instanceof Error ? r.ret.bytesParsed : r.ret) - 1;
      framing = at >= 0 ? framingTrailersAround(data, at) : null;
    }
    if (framing !== null && framing.length > 0) {
      mark(msgs.length + r.msgs.length - 1, 'trailer');
      for (const x of framing) cut(x.from, x.to); // last line first: earlier offsets stay good
    } else if (r.ret instanceof Error) {
      const code = r.ret.code;
      const at = r.ret.bytesParsed - 1;
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
      let proxyClose = null;
      if (kind === HTTPParser.REQUEST && code === 'HPE_CLOSED_CONNECTION' && done.length > 0
        && done[done.length - 1].headers.some((x, j) => j % 2 === 0 && x.toLowerCase() === 'proxy-connection')) {
        // llhttp reads Proxy-Connection as Connection; the gateway drops it (hop-by-hop) and reads on
        const from = requestStart(data, done.length - 1);
        const headEnd = data.indexOf('\r\n\r\n', from);
        proxyClose = [];
        for (let l = lineAround(data, from); headEnd >= 0 && l.from < headEnd; l = lineAround(data, l.to)) {
          if (/^proxy-connection\s*:/i.test(l.text)) proxyClose.unshift(l);
          if (l.to >= data.length) break;
        }
        if (proxyClose.length === 0) proxyClose = null;
      }
      let closing = null;
      if (code === 'HPE_CLOSED_CONNECTION' && done.length > 0 && done[done.length - 1].trailers.some((x, j) =>
        j % 2 === 0 && x.toLowerCase() === 'connection')) {
        // the Connection trailer of the message before: its section ends with the CRLF just before at + 1
        let e = r.ret.bytesParsed;
        while (e > 0 && data[e - 1] !== 10) e--;
        const lines = e >= 2 ? trailerLines(data, e - 3) : null;
        closing = lines === null ? null : lines.filter((x) => /^connection\s*:/i.test(x.text));
        if (closing !== null && closing.length === 0) closing = null;
      }
      if (token !== null) {
        take(done);
        resync(done.length, token);
      } else if (['HPE_STRICT', 'HPE_INVALID_CHUNK_SIZE'].includes(code) && at >= 0 && last && !last.complete
        && inChunkExtension(data, at)) {
        mark(msgs.length + r.msgs.length - 1, 'bws');
        cut(at, at + 1);
      } else if (proxyClose !== null) {
        mark(msgs.length + done.length - 1, 'proxy-connection');
        for (const x of proxyClose) cut(x.from, x.to); // last line first: earlier offsets stay good
      } else if (closing !== null) {
        mark(msgs.length + done.length - 1, 'trailer');
        for (const x of closing) cut(x.from, x.to); // last line first: earlier offsets stay good
      } else {
        take(r.msgs);
        end = ['error', code, base + r.ret.bytesParsed];
      }
    } else if (r.ret < data.length) {
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
    out += ['m', m.complete ? 1 : 0, m.upgrade ? 1 : 0, m.keepAlive ? 1 : 0, m.refused ? 1 : 0,
      m.marks.size ? [...m.marks].sort().join(',') : '-',
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
