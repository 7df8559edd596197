// The gate in front of the SDK's stdio transport, on plain data: lines split across reads, a line over the limit
// dropped without being kept, and the JSON-RPC verdict on each line (src/transport.ts). The same behaviour through
// the built server: test/adversarial/protocol.test.ts.
import { describe, expect, test } from "bun:test";
import { judgeLine, LineSplitter } from "../src/transport.ts";

const text = (lines: Array<Buffer | null>) => lines.map((l) => (l === null ? null : l.toString("utf8")));

describe("LineSplitter", () => {
  test("lines split across reads come out whole; several in one read come out in order", () => {
    const splitter = new LineSplitter(100);
    expect(text(splitter.push(Buffer.from('{"a":')))).toEqual([]);
    expect(text(splitter.push(Buffer.from('1}\n{"b":2}\n{"c"')))).toEqual(['{"a":1}', '{"b":2}']);
    expect(text(splitter.push(Buffer.from(":3}\n")))).toEqual(['{"c":3}']);
  });

  test("a multibyte character cut between reads is joined before decoding", () => {
    const bytes = Buffer.from('"é🙂"\n');
    const splitter = new LineSplitter(100);
    expect(splitter.push(bytes.subarray(0, 4))).toEqual([]);
    expect(text(splitter.push(bytes.subarray(4)))).toEqual(['"é🙂"']);
  });

  test("a line over the limit is null, however it arrives, and the next line is read normally", () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(Buffer.from("0123456789"))).toEqual([]);
    expect(splitter.push(Buffer.from("more and more"))).toEqual([]);
    expect(text(splitter.push(Buffer.from("end\nok\n")))).toEqual([null, "ok"]);
    expect(text(splitter.push(Buffer.from("01234567890\n0123456789\n")))).toEqual([null, "0123456789"]);
  });
});

describe("judgeLine", () => {
  test("a request, a notification and a response pass, with their method when they have one", () => {
    expect(judgeLine(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'))).toMatchObject({ method: "initialize" });
    expect(judgeLine(Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}'))).toMatchObject({ method: "notifications/initialized" });
    const response = judgeLine(Buffer.from('{"jsonrpc":"2.0","id":1,"result":{}}'));
    expect("pass" in response && response.method).toBe(undefined);
  });

  test("blank lines and a lone CR are skipped; CRLF line ends pass", () => {
    expect(judgeLine(Buffer.from(""))).toEqual({ skip: true });
    expect(judgeLine(Buffer.from("\r"))).toEqual({ skip: true });
    expect(judgeLine(Buffer.from('{"jsonrpc":"2.0","id":2,"method":"ping"}\r'))).toMatchObject({ method: "ping" });
  });

  test("not JSON is a Parse error; JSON that is no JSON-RPC message an Invalid Request; over the limit too", () => {
    expect(judgeLine(Buffer.from("not json"))).toMatchObject({ error: { code: -32700 } });
    expect(judgeLine(Buffer.from('{"jsonrpc":"2.0","id":5,"method":"ping"'))).toMatchObject({ error: { code: -32700 } });
    for (const line of ["42", '{"jsonrpc":"1.0","id":1,"method":"x"}', '{"jsonrpc":"2.0","id":7}', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]']) {
      expect(judgeLine(Buffer.from(line))).toMatchObject({ error: { code: -32600 } });
    }
    expect(judgeLine(null, 1024)).toMatchObject({ error: { code: -32600, message: expect.stringContaining("more than 1024 bytes") } });
  });
});
