// node mysql2 against a running `tributary serve` (port in argv[2]):
// connecting without a database (an empty name in the handshake), a
// query, a multi-statement query, typed values.
const mysql = require("mysql2/promise");

(async () => {
  const port = Number(process.argv[2]);
  const plain = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", password: "" });
  const [rows] = await plain.query("SELECT 1 AS one, NULL AS nothing, now() AS at");
  if (rows[0].one !== 1 || rows[0].nothing !== null || !(rows[0].at instanceof Date)) {
    throw new Error("values: " + JSON.stringify(rows));
  }
  await plain.end();
  const multi = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", password: "", multipleStatements: true });
  const [sets] = await multi.query("CREATE DATABASE node; CREATE TABLE node.t (id INT); INSERT INTO node.t VALUES (1), (2); SELECT count(*) AS n FROM node.t");
  if (sets.length !== 4 || Number(sets[3][0].n) !== 2) {
    throw new Error("multi: " + JSON.stringify(sets));
  }
  await multi.end();
  console.log("node checks passed");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
