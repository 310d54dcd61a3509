// lotchain log checks, run in the visitor's browser (no server trusted):
// RFC 9162 section 2.1.3.2 inclusion proofs, and C2SP signed-note checkpoints signed
// with Ed25519, verified with the Web Crypto API (crypto.subtle, "Ed25519").
"use strict";
(function () {
  const HASH_SIZE = 32;

  function b64decode(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
      throw new Error("not standard base64");
    }
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  /** RFC 9162 leaf hash: SHA-256(0x00 || leaf). */
  function leafHash(leaf) { return sha256(concat(new Uint8Array([0]), leaf)); }

  function nodeHash(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }

  /** RFC 9162 2.1.3.2: resolves if `proof` puts `leaf` at `index` under `root`, else throws. */
  async function verifyInclusion(leaf, index, treeSize, proof, root) {
    let fn = BigInt(index);
    let sn = BigInt(treeSize) - 1n;
    if (fn < 0n || sn < 0n) throw new Error("index and tree size must not be negative");
    if (fn > sn) throw new Error(`index ${index} is not in a tree of size ${treeSize}`);
    if (leaf.length !== HASH_SIZE) throw new Error("the leaf hash is not 32 bytes");
    if (root.length !== HASH_SIZE) throw new Error("the root is not 32 bytes");
    let r = leaf;
    for (const p of proof) {
      if (p.length !== HASH_SIZE) throw new Error("a proof hash is not 32 bytes");
      if (sn === 0n) throw new Error("the proof has more hashes than the tree size allows");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    if (sn !== 0n) throw new Error("the proof has fewer hashes than the tree size needs");
    if (!equal(r, root)) throw new Error("the computed root does not match the signed root");
  }

  /** Parse `name+hash+base64(0x01 || key)`; the hash must match the name and key. */
  async function parseVkey(vkey) {
    const text = vkey.trim();
    const first = text.indexOf("+");
    const second = text.indexOf("+", first + 1);
    if (first < 1 || second < 0) throw new Error("a verifier key is name+hash+key");
    const name = text.slice(0, first);
    const hashHex = text.slice(first + 1, second);
    const keyB64 = text.slice(second + 1);  // base64 may itself hold '+'
    if (!/^[0-9a-fA-F]{8}$/.test(hashHex)) throw new Error("a verifier key's hash is 8 hex digits");
    const key = b64decode(keyB64);
    if (key.length !== 33 || key[0] !== 1) throw new Error("not an Ed25519 verifier key");
    const want = await sha256(concat(new TextEncoder().encode(name + "\n"), key));
    const hash = Uint8Array.from(hashHex.match(/../g).map((h) => parseInt(h, 16)));
    if (!equal(want.slice(0, 4), hash)) throw new Error("the key hash does not match its name and key");
    return { name: name, keyHash: hash, publicKey: key.slice(1) };
  }

  /** Check a checkpoint's signature by `vkey`; resolves to {origin, size, root}. */
  async function verifyCheckpoint(note, vkey) {
    const verifier = await parseVkey(vkey);
    const split = note.indexOf("\n\n");
    if (split < 0) throw new Error("a signed note has a blank line before its signatures");
    const text = note.slice(0, split + 1);
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3) throw new Error("a checkpoint has an origin, a size and a root");
    if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1])) throw new Error("the tree size is not a number");
    const root = b64decode(lines[2]);
    if (root.length !== HASH_SIZE) throw new Error("the root is not 32 bytes");
    const key = await crypto.subtle.importKey("raw", verifier.publicKey, { name: "Ed25519" }, false, ["verify"]);
    const sigLines = note.slice(split + 2).split("\n").filter((l) => l !== "");
    let ok = false;
    for (const line of sigLines) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error("a signature line is malformed");
      if (m[1] !== verifier.name) continue;
      const sig = b64decode(m[2]);
      if (sig.length !== 68 || !equal(sig.slice(0, 4), verifier.keyHash)) continue;
      const data = new TextEncoder().encode(text);
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, sig.slice(4), data)) ok = true;
    }
    if (!ok) throw new Error("no valid signature by " + verifier.name);
    if (lines[0] !== verifier.name) throw new Error("the checkpoint's origin is not the key's name");
    return { origin: lines[0], size: BigInt(lines[1]), root: root };
  }

  window.LotchainLog = { b64decode, leafHash, verifyInclusion, verifyCheckpoint, parseVkey };
})();
