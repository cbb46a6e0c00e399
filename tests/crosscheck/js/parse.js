#!/usr/bin/env node
// Reads {"keystore": DIR, "messages": [HEX, ...]} on stdin, parses each message with
// @smartdcc/gbcs-parser, and prints a JSON array with one summary object per message.
// Keys come from DIR in smemu's keystore layout: <eui>-{ds,ka}.pem holds a certificate or
// a public key, <eui>-{ds,ka}.key a PKCS#8 private key (EUI as 16 lower-case hex digits).
'use strict'

const { readFileSync, existsSync } = require('node:fs')
const { join } = require('node:path')
const { X509Certificate, createPublicKey, createPrivateKey } = require('node:crypto')
const { parseGbcsMessage } = require('@smartdcc/gbcs-parser')

function euiHex(eui) {
  if (typeof eui === 'string') return eui.replace(/[^0-9a-fA-F]/g, '').toLowerCase()
  return Buffer.from(eui).toString('hex')
}

function makeKeyStore(folder) {
  const missing = []
  async function lookupKey(eui, type, privateKey) {
    const stem = join(folder, `${euiHex(eui)}-${type.toLowerCase()}`)
    if (privateKey) {
      if (existsSync(`${stem}.key`)) return createPrivateKey(readFileSync(`${stem}.key`))
    } else if (existsSync(`${stem}.pem`)) {
      const pem = readFileSync(`${stem}.pem`, 'utf8')
      return pem.includes('BEGIN CERTIFICATE')
        ? new X509Certificate(pem).publicKey
        : createPublicKey(pem)
    }
    const what = `${privateKey ? 'private' : 'public'} ${type} key of ${euiHex(eui)}`
    missing.push(what)
    throw new Error(`no ${what}`)
  }
  return { lookupKey, missing }
}

// "08 90 B3 ..." (length-prefixed) or "90 B3 ..." -> lower-case hex of the last 8 bytes
function titleHex(item) {
  const bytes = item.hex.split(' ')
  return bytes.slice(bytes.length - 8).join('').toLowerCase()
}

function summarise(tree) {
  const gh = tree['Grouping Header'].children
  const other = gh['Other Information Length'].children
  const signature = tree.Signature ? tree.Signature.children : {}
  return {
    message_code: parseInt(other['Message Code'].hex.replace(/ /g, ''), 16),
    cra: parseInt(gh['CRA Flag'].hex, 16),
    originator_counter: BigInt('0x' + gh['Originator Counter'].hex.replace(/ /g, '')).toString(),
    originator: titleHex(gh['Originator System Title']),
    recipient: titleHex(gh['Recipient System Title']),
    signature_valid: signature.Valid ? signature.Valid.notes === 'true' : null,
    mac: tree.MAC ? tree.MAC.children.MAC.hex.replace(/ /g, '').toLowerCase() : null,
    sections: Object.keys(tree),
  }
}

async function main() {
  const request = JSON.parse(readFileSync(0, 'utf8'))
  const out = []
  for (const hex of request.messages) {
    const store = makeKeyStore(request.keystore)
    try {
      const tree = await parseGbcsMessage(hex, store.lookupKey)
      out.push({ ok: true, ...summarise(tree), missing_keys: store.missing })
    } catch (err) {
      out.push({ ok: false, error: String(err && err.message ? err.message : err), missing_keys: store.missing })
    }
  }
  process.stdout.write(JSON.stringify(out))
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
