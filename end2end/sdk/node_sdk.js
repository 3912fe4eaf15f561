// Calls Herald through the official tencentcloud-sdk-nodejs (its SMS package), exactly as a
// developer would call Tencent Cloud SMS, and prints what came back as one JSON line for the Rust
// test to check: {"response": {...}} on success, {"error": "<code>", "message": "..."} otherwise.
//
// Usage: node node_sdk.js <Action> '<request JSON>'
// Environment: HERALD_ENDPOINT (host:port), SECRET_ID, SECRET_KEY.
const { Client } = require('tencentcloud-sdk-nodejs-sms').sms.v20210111;

const [action, body] = process.argv.slice(2);
const client = new Client({
  credential: { secretId: process.env.SECRET_ID, secretKey: process.env.SECRET_KEY },
  region: 'ap-guangzhou',
  profile: { httpProfile: { protocol: 'http://', endpoint: process.env.HERALD_ENDPOINT } },
});

client[action](JSON.parse(body))
  .then((response) => console.log(JSON.stringify({ response })))
  .catch((err) => console.log(JSON.stringify({ error: err.code, message: err.message })));
