#!/usr/bin/env node
// A local IPFS node for tests and development: Helia (createHeliaLight: in-memory blockstore and
// pins, no libp2p, no network access at all) behind the subset of Kubo's RPC API (/api/v0) that
// the Python client ipfshttpclient 0.7.0 uses:
//
//   POST /api/v0/add        multipart files -> NDJSON {"Name","Hash","Size"} per file
//   POST /api/v0/cat        ?arg=CID[&offset=&length=] -> the file's bytes
//   POST /api/v0/pin/add    ?arg=CID... -> {"Pins":[...]}
//   POST /api/v0/pin/ls     ?arg=CID... -> {"Keys":{CID:{"Type":"recursive"}}}
//   POST /api/v0/pin/rm     ?arg=CID... -> {"Pins":[...]} (the blocks stay until a garbage collection)
//   POST /api/v0/block/stat ?arg=CID -> {"Key","Size"}
//   POST /api/v0/id, /api/v0/version
//
// `add` imports exactly as Kubo's defaults do: fixed-size chunker (size-262144 unless ?chunker=),
// balanced layout with at most 174 links per node, raw leaves when cid-version=1 (unless
// ?raw-leaves=false), a single-chunk file reduced to its leaf, sha2-256. Options Kubo has but this
// node does not (trickle, nocopy, inline, other hashes, rabin/buzhash chunkers, directories) are
// refused with an error rather than silently giving a different CID.
//
// Usage: node server.mjs [--port N]     (or IPFS_NODE_PORT; 0 = any free port; default 5001)
// Listens on 127.0.0.1 only. Prints one line `listening http://127.0.0.1:PORT` when ready.

import { createServer } from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import { Readable } from 'node:stream'
import { createHeliaLight } from 'helia'
import { unixfs } from '@helia/unixfs'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'

// The Kubo release whose `ipfs add` defaults this node reproduces, reported by /api/v0/version.
const KUBO_VERSION = '0.43.1'
const AGENT = `kubo/${KUBO_VERSION}/returntrace-ipfs-node (helia 7.1.15)`
const DEFAULT_CHUNK = 262144
const MAX_CHUNK = 1024 * 1024 // Kubo's limit for size-N chunkers
const MAX_LINKS = 174
const MAX_BODY = Number(process.env.IPFS_NODE_MAX_BODY ?? 512 * 1024 * 1024)

class ClientError extends Error {} // -> 400, Code 1 (Kubo's cmds.ErrClient)
class NotFound extends Error {} // -> 500, Code 0 (what Kubo answers for a missing block offline)

function parseArgs (argv) {
  const opts = { port: Number(process.env.IPFS_NODE_PORT ?? 5001) }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') opts.port = Number(argv[++i])
    else if (argv[i].startsWith('--port=')) opts.port = Number(argv[i].slice(7))
    else throw new Error(`unknown argument ${argv[i]}`)
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('bad --port')
  return opts
}

// Go's strconv.ParseBool, which Kubo uses for boolean options (Python's requests sends "True").
function bool (params, name, fallback) {
  const v = params.get(name)
  if (v === null) return fallback
  if (['1', 't', 'T', 'true', 'TRUE', 'True', ''].includes(v)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false
  throw new ClientError(`invalid value for option ${name}: ${JSON.stringify(v)}`)
}

// The CIDs of `pin add` / `pin rm`: recursive pins only, as this node keeps no direct ones.
function recursivePinArgs (params) {
  const args = params.getAll('arg')
  if (args.length === 0) throw new ClientError('argument "ipfs-path" is required')
  if (!bool(params, 'recursive', true)) throw new ClientError('direct pins are not supported by this node')
  return args
}

function parseCid (arg) {
  if (arg == null) throw new ClientError('argument "ipfs-path" is required')
  let text = arg.trim()
  if (text.startsWith('/ipfs/')) text = text.slice(6)
  if (text.includes('/')) throw new ClientError('paths inside a DAG are not supported by this node')
  try {
    return CID.parse(text)
  } catch (err) {
    throw new ClientError(`invalid path ${JSON.stringify(arg)}: ${err.message}`)
  }
}

function importOptions (params) {
  const cidVersion = Number(params.get('cid-version') ?? 0)
  if (cidVersion !== 0 && cidVersion !== 1) throw new ClientError('unknown CID version')
  // Kubo: raw leaves default to true from CIDv1 on, and an explicit value wins.
  const rawLeaves = bool(params, 'raw-leaves', cidVersion > 0)
  const chunker = params.get('chunker') ?? `size-${DEFAULT_CHUNK}`
  const m = /^size-(\d+)$/.exec(chunker)
  if (!m) throw new ClientError(`chunker ${chunker} is not supported by this node (only size-N)`)
  const chunkSize = Number(m[1])
  if (chunkSize < 1 || chunkSize > MAX_CHUNK) throw new ClientError('chunker size out of range')
  const maxLinks = Number(params.get('max-file-links') ?? MAX_LINKS)
  if (!Number.isInteger(maxLinks) || maxLinks < 2) throw new ClientError('bad max-file-links')
  if (bool(params, 'trickle', false)) throw new ClientError('the trickle layout is not supported by this node')
  if (bool(params, 'nocopy', false)) throw new ClientError('nocopy (filestore) is not supported by this node')
  if (bool(params, 'inline', false)) throw new ClientError('inline CIDs are not supported by this node')
  if (bool(params, 'wrap-with-directory', false)) throw new ClientError('wrap-with-directory is not supported by this node')
  const hash = params.get('hash') ?? 'sha2-256'
  if (hash !== 'sha2-256') throw new ClientError(`hash ${hash} is not supported by this node`)
  return {
    cidVersion,
    rawLeaves,
    leafType: 'file', // Kubo's balanced builder makes UnixFS File leaves when leaves are not raw
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize }),
    layout: balanced({ maxChildrenPerNode: maxLinks }),
    wrapWithDirectory: false
  }
}

// A real-looking Ed25519 peer ID (identity multihash of the protobuf public key, base58btc).
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function base58 (bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  let out = ''
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out }
  return out
}
function makeIdentity () {
  const { publicKey } = generateKeyPairSync('ed25519')
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  const pb = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x20]), raw]) // KeyType Ed25519, Data
  return { id: base58(Buffer.concat([Buffer.from([0x00, pb.length]), pb])), publicKey: pb.toString('base64') }
}

function sendJson (res, status, body, headers = {}) {
  const text = JSON.stringify(body) + '\n'
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function sendError (res, err) {
  const client = err instanceof ClientError
  if (!(client || err instanceof NotFound)) console.error(err)
  if (res.headersSent) { res.destroy(err); return }
  sendJson(res, client ? 400 : 500, { Message: err.message, Code: client ? 1 : 0, Type: 'error' })
}

async function readFiles (req) {
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('multipart/')) throw new ClientError('file argument "path" is required (multipart body)')
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY) throw new ClientError(`request body over ${MAX_BODY} bytes`)
  let seen = 0
  const limited = Readable.from((async function * () {
    for await (const chunk of req) {
      seen += chunk.length
      if (seen > MAX_BODY) throw new ClientError(`request body over ${MAX_BODY} bytes`)
      yield chunk
    }
  })())
  // Kubo's multipart is multipart/form-data; ipfshttpclient quotes the boundary, which WHATWG
  // parsing accepts. Directory parts (application/x-directory) are refused.
  const request = new Request('http://node.invalid/', {
    method: 'POST',
    headers: { 'content-type': type.replace(/^multipart\/[a-z-]+/i, 'multipart/form-data') },
    body: Readable.toWeb(limited),
    duplex: 'half'
  })
  let form
  try {
    form = await request.formData()
  } catch (err) {
    if (err instanceof ClientError) throw err
    throw new ClientError(`cannot parse the multipart body: ${err.message}`)
  }
  const files = []
  for (const [, value] of form.entries()) {
    if (typeof value === 'string') continue
    if (value.type === 'application/x-directory') throw new ClientError('directories are not supported by this node')
    let name = value.name ?? ''
    try { name = decodeURIComponent(name) } catch {}
    files.push({ name, bytes: new Uint8Array(await value.arrayBuffer()) })
  }
  if (files.length === 0) throw new ClientError('file argument "path" is required')
  return files
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  const helia = await createHeliaLight()
  await helia.start()
  const fs = unixfs(helia)
  const identity = makeIdentity()

  async function pin (cid) {
    if (await helia.pins.isPinned(cid)) return
    for await (const _ of helia.pins.add(cid)) { /* walks the DAG: every block must be here */ } // eslint-disable-line no-unused-vars
  }

  async function requireLocal (cid) {
    if (!(await helia.blockstore.has(cid))) {
      throw new NotFound(`block was not found locally (offline): ipld: could not find ${cid}`)
    }
  }

  const routes = {
    async '/api/v0/add' (req, res, params) {
      const options = importOptions(params)
      const onlyHash = bool(params, 'only-hash', false)
      const doPin = bool(params, 'pin', true)
      const files = await readFiles(req)
      const target = onlyHash ? unixfs(await createHeliaLight()) : fs
      const lines = []
      for (const file of files) {
        let entry
        for await (const e of target.addAll([{ content: file.bytes }], options)) entry = e
        if (!onlyHash && doPin) await pin(entry.cid)
        const hash = entry.cid.toString()
        lines.push(JSON.stringify({ Name: file.name || hash, Hash: hash, Size: String(entry.size) }))
      }
      const body = lines.join('\n') + '\n'
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Chunked-Output': '1', 'Content-Length': Buffer.byteLength(body) })
      res.end(body)
    },

    async '/api/v0/cat' (req, res, params) {
      const cid = parseCid(params.get('arg'))
      await requireLocal(cid)
      const offset = params.has('offset') ? Number(params.get('offset')) : undefined
      const length = params.has('length') ? Number(params.get('length')) : undefined
      const chunks = fs.cat(cid, { offset, length, offline: true, signal: AbortSignal.timeout(60_000) })
      // Pull the first chunk before the headers so that a missing block is a clean error.
      const it = chunks[Symbol.asyncIterator]()
      const first = await it.next()
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Stream-Output': '1', Trailer: 'X-Stream-Error' })
      if (!first.done) res.write(first.value)
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) res.write(r.value)
        res.end()
      } catch (err) {
        res.addTrailers({ 'X-Stream-Error': err.message })
        res.end()
      }
    },

    async '/api/v0/pin/add' (req, res, params) {
      const pins = []
      for (const arg of recursivePinArgs(params)) {
        const cid = parseCid(arg)
        await requireLocal(cid)
        await pin(cid)
        pins.push(cid.toString())
      }
      sendJson(res, 200, { Pins: pins })
    },

    async '/api/v0/pin/ls' (req, res, params) {
      const keys = {}
      const args = params.getAll('arg')
      if (args.length) {
        for (const arg of args) {
          const cid = parseCid(arg)
          if (!(await helia.pins.isPinned(cid))) throw new NotFound(`path '${arg}' is not pinned`)
          keys[cid.toString()] = { Type: 'recursive' }
        }
      } else {
        for await (const p of helia.pins.ls()) keys[p.cid.toString()] = { Type: 'recursive' }
      }
      sendJson(res, 200, { Keys: keys })
    },

    // Kubo's `ipfs pin rm`: recursive pins only; one that is not pinned is Kubo's error, 500 Code 0.
    async '/api/v0/pin/rm' (req, res, params) {
      const pins = []
      for (const arg of recursivePinArgs(params)) {
        const cid = parseCid(arg)
        if (!(await helia.pins.isPinned(cid))) throw new NotFound('not pinned or pinned indirectly')
        for await (const _ of helia.pins.rm(cid)) { /* yields the unpinned root */ } // eslint-disable-line no-unused-vars
        pins.push(cid.toString())
      }
      sendJson(res, 200, { Pins: pins })
    },

    async '/api/v0/block/stat' (req, res, params) {
      const cid = parseCid(params.get('arg'))
      await requireLocal(cid)
      const chunks = []
      for await (const c of helia.blockstore.get(cid, { offline: true })) chunks.push(c)
      const size = chunks.reduce((n, c) => n + c.length, 0)
      sendJson(res, 200, { Key: cid.toString(), Size: size })
    },

    async '/api/v0/id' (req, res) {
      sendJson(res, 200, {
        ID: identity.id,
        PublicKey: identity.publicKey,
        Addresses: [],
        AgentVersion: AGENT,
        ProtocolVersion: 'ipfs/0.1.0',
        Protocols: []
      })
    },

    async '/api/v0/version' (req, res) {
      sendJson(res, 200, { Version: KUBO_VERSION, Commit: 'helia', Repo: '16', System: 'amd64/linux', Golang: 'n/a (Node.js ' + process.version + ')' })
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1')
      const handler = routes[url.pathname]
      if (!handler) {
        res.writeHead(404, { 'Content-Type': 'text/plain' })
        res.end('404 page not found\n')
        return
      }
      // Kubo refuses browser requests from other origins and anything but POST (since 0.5).
      if (req.headers.origin) {
        res.writeHead(403, { 'Content-Type': 'text/plain' })
        res.end('403 - Forbidden\n')
        return
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { 'Content-Type': 'text/plain' })
        res.end(`${req.method} ${url.pathname} not allowed\n`)
        return
      }
      await handler(req, res, url.searchParams)
    } catch (err) {
      sendError(res, err)
    }
  })
  server.requestTimeout = 0

  const shutdown = async () => {
    server.close()
    await helia.stop()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  server.listen(opts.port, '127.0.0.1', () => {
    const { port } = server.address()
    process.stdout.write(`listening http://127.0.0.1:${port}\n`)
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
