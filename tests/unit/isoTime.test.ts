// isoTime reuses the formatted second; it must still be byte-for-byte Date.prototype.toISOString.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isoTime } from "../../packages/server/src/isoTime.js";

const same = (ms: number) => assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);

describe("isoTime", () => {
  it("matches toISOString around every millisecond boundary of a second, in and out of order", () => {
    const base = Date.parse("2026-12-07T16:02:40.000Z");
    for (const offset of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -1000, -1001, 59_999, 60_000, 86_399_999, 86_400_000]) same(base + offset);
    for (const offset of [5, 1005, 5, 2005, 1005]) same(base + offset); // back and forth across seconds
  });

  it("matches toISOString at the edges: epoch, before it, four- and six-digit years", () => {
    for (const ms of [0, 1, 999, -1, -999, -1000, -1001, -62_167_219_200_000, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10_000, 0, 1), 8.64e15, -8.64e15]) same(ms);
  });

  it("matches toISOString for 100,000 random instants, and throws like it for invalid ones", () => {
    for (let i = 0; i < 100_000; i++) same(Math.floor((Math.random() * 2 - 0.5) * 4e12));
    for (const ms of [1.5, 1796660434552.25]) same(ms);
    for (const bad of [Number.NaN, Infinity, 8.64e15 + 1]) assert.throws(() => isoTime(bad), RangeError);
  });
});
