import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';

const deflateRawAsync = promisify(deflateRaw);

/** Uncompressed bytes per deflate block of a streamed part (see addStream). */
const DEFLATE_BLOCK_BYTES = 1 << 20;
/** Blocks deflated at once: libuv's thread pool has 4 threads by default. */
const DEFLATE_BLOCKS_IN_FLIGHT = 4;

/**
 * A streaming ZIP writer (APPNOTE 6.3), for the parts of an XLSX file: small parts given
 * whole, one large part streamed through deflate, its CRC-32 computed by zlib (native) as the
 * bytes pass. yazl, used before, checks CRCs in JavaScript: a third of a 1M-row XLSX export.
 * No ZIP64: a part or an archive of 4 GiB or more is refused (an XLSX sheet holds at most
 * 1,048,576 rows; a sheet that large belongs in CSV or Parquet).
 */
export class ZipWriter {
  private offset = 0;
  private readonly entries: {
    name: Buffer;
    flags: number;
    crc: number;
    compressed: number;
    size: number;
    offset: number;
  }[] = [];

  constructor(private readonly out: Writable) {}

  /** A part given whole. */
  async addFile(name: string, data: Buffer): Promise<void> {
    const compressed = deflateRawSync(data);
    const entry = {
      name: Buffer.from(name),
      flags: UTF8_NAMES,
      crc: crc32(data),
      compressed: compressed.length,
      size: data.length,
    };
    const offset = this.offset;
    await this.write(localHeader(entry.name, entry));
    await this.write(compressed);
    this.entries.push({ ...entry, offset });
  }

  /**
   * A part streamed: its bytes come from `chunks`, deflated at `level` (1: fastest), followed
   * by a data descriptor with its CRC and sizes. Deflate is the slow part of a large sheet
   * (1M IRVE rows: 1.9 GB of XML), and zlib's stream runs on one thread: the bytes are cut into
   * blocks of 1 MiB deflated apart, several at a time on libuv's thread pool, and written in
   * order, as pigz does: each block but the last ends with a sync flush (an empty stored block,
   * byte-aligned, not final), so that together they make one deflate stream.
   */
  async addStream(name: string, chunks: AsyncIterable<Buffer>, level = 1): Promise<void> {
    const nameBytes = Buffer.from(name);
    const offset = this.offset;
    await this.write(localHeader(nameBytes));
    let crc = 0;
    let size = 0;
    let compressed = 0;
    const inFlight: Promise<Buffer>[] = [];
    const writeOldest = async () => {
      const piece = await inFlight.shift()!;
      compressed += piece.length;
      await this.write(piece);
    };
    const deflateBlock = (block: Buffer, last: boolean) =>
      deflateRawAsync(block, {
        level,
        finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        // One output buffer per block (the default 16 KiB gives a callback per 16 KiB).
        chunkSize: DEFLATE_BLOCK_BYTES,
      });
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    try {
      for await (const chunk of chunks) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        if (pendingBytes === 0 && chunk.length >= DEFLATE_BLOCK_BYTES / 2) {
          // A block already (the XLSX writer's): deflated as it is, without a copy.
          inFlight.push(deflateBlock(chunk, false));
          if (inFlight.length >= DEFLATE_BLOCKS_IN_FLIGHT) await writeOldest();
          continue;
        }
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < DEFLATE_BLOCK_BYTES) continue;
        inFlight.push(deflateBlock(Buffer.concat(pending, pendingBytes), false));
        pending = [];
        pendingBytes = 0;
        if (inFlight.length >= DEFLATE_BLOCKS_IN_FLIGHT) await writeOldest();
      }
      inFlight.push(deflateBlock(Buffer.concat(pending, pendingBytes), true));
      while (inFlight.length > 0) await writeOldest();
    } catch (error) {
      await Promise.allSettled(inFlight);
      throw error;
    }
    if (size >= LIMIT || compressed >= LIMIT)
      throw new Error(`the ZIP part ${name} is 4 GiB or larger: publish this table as CSV or Parquet`);
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    descriptor.writeUInt32LE(compressed, 8);
    descriptor.writeUInt32LE(size, 12);
    await this.write(descriptor);
    this.entries.push({ name: nameBytes, flags: FLAGS, crc: crc >>> 0, compressed, size, offset });
  }

  /** The central directory and its end record. */
  async finish(): Promise<void> {
    const start = this.offset;
    for (const entry of this.entries) {
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(20, 4); // made by: version 2.0
      header.writeUInt16LE(20, 6); // needed to extract: 2.0 (deflate)
      header.writeUInt16LE(entry.flags, 8);
      header.writeUInt16LE(8, 10); // deflate
      header.writeUInt16LE(DOS_TIME, 12);
      header.writeUInt16LE(DOS_DATE, 14);
      header.writeUInt32LE(entry.crc, 16);
      header.writeUInt32LE(entry.compressed, 20);
      header.writeUInt32LE(entry.size, 24);
      header.writeUInt16LE(entry.name.length, 28);
      header.writeUInt32LE(entry.offset, 42);
      await this.write(header);
      await this.write(entry.name);
    }
    const size = this.offset - start;
    if (this.offset >= LIMIT)
      throw new Error('the ZIP archive is 4 GiB or larger: publish this table as CSV or Parquet');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
    this.out.end();
    await once(this.out, 'finish');
  }

  private async write(bytes: Buffer): Promise<void> {
    this.offset += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }
}

const LIMIT = 0xffffffff;
/** Bit 11: names in UTF-8; bit 3: sizes and CRC in a data descriptor after the data. */
const UTF8_NAMES = 0x0800;
const FLAGS = UTF8_NAMES | 0x0008;
/** 1980-01-01 00:00, the earliest DOS date: the parts carry no meaningful time. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** A local file header; without `known` (a streamed part), CRC and sizes follow the data. */
function localHeader(name: Buffer, known?: { crc: number; compressed: number; size: number }): Buffer {
  const header = Buffer.alloc(30 + name.length);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(known ? UTF8_NAMES : FLAGS, 6);
  header.writeUInt16LE(8, 8);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  if (known) {
    header.writeUInt32LE(known.crc >>> 0, 14);
    header.writeUInt32LE(known.compressed, 18);
    header.writeUInt32LE(known.size, 22);
  }
  header.writeUInt16LE(name.length, 26);
  name.copy(header, 30);
  return header;
}
