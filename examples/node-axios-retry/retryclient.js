// A client that retries with axios-retry (npm), unmodified, for the retry kit's examples:
// `node retryclient.js <correct|broken> <METHOD> <URL> <Idempotency-Key>` prints the final
// status. "correct" is axios-retry's default condition (network errors, and 5xx only for
// idempotent methods); "broken" retries every 5xx whatever the method.
const axios = require("axios");
const axiosRetry = require("axios-retry").default;

const [policy, method, url, key] = process.argv.slice(2);
const client = axios.create({ timeout: 10000 }); // a status >= 300 rejects, as axios-retry expects
axiosRetry(client, {
  retries: 3,
  retryDelay: (n) => 100 * 2 ** (n - 1), // 100 ms, 200 ms, 400 ms
  retryCondition:
    policy === "broken"
      ? (error) => axiosRetry.isNetworkError(error) || (error.response?.status ?? 0) >= 500
      : axiosRetry.isNetworkOrIdempotentRequestError,
});
client
  .request({ method, url, data: method === "POST" ? {} : undefined, headers: { "Idempotency-Key": key } })
  .then((r) => console.log(r.status))
  .catch((e) => console.log(e.response ? e.response.status : 0));
