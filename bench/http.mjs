/** The load generators' HTTP client, shared by the benches that drive Bazaar and the yardstick alike. */
import http from 'node:http';

// A plain keep-alive agent: fetch costs the load generator, which shares the machine with the
// server and PostgreSQL, about three times the CPU per request (measured: 3.8 ms of client CPU per
// checkout with fetch).
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One JSON request over the shared keep-alive agent: `{ status, body }` (body parsed, or null when empty). */
export function requestJson(method, url, { token, body, headers = {} } = {}) {
  const payload = body ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: response.statusCode, body: text ? JSON.parse(text) : null });
          } catch (error) {
            reject(error);
          }
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
