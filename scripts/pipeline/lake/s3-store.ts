/**
 * The lake in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO), through the AWS
 * SDK. DuckDB's httpfs extension is not bundled with `@duckdb/node-api` (DuckDB
 * downloads it at run time, which a locked-down host cannot do), so object I/O goes
 * through the SDK and DuckDB reads local copies: files are staged locally and uploaded
 * with one PUT each (an object appears whole or not at all), and reads download into a
 * cache under `workDir` keyed by key and size. Data files are never modified in place
 * (a rewrite writes a new key), so a cached copy with the right size is the file.
 *
 * Logs: S3 has no append, so a log `key` is a sequence of objects `key/<seq>` (one line
 * each, zero-padded so they list in order), written with `If-None-Match: *` so two
 * writers cannot both write line n (servers that ignore the header fall back to the
 * one-writer rule of the local lock). `readLines` lists and reads them.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { STAGING_DIR, type LakeStore } from './store';

const SEQ_DIGITS = 12;

/** A lake under `s3://bucket/prefix`. */
export class S3Store implements LakeStore {
  readonly url: string;
  /** Next sequence number per log, once read. */
  private readonly logNext = new Map<string, number>();

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
    readonly workDir: string,
  ) {
    this.url = `s3://${bucket}/${prefix}`;
    mkdirSync(workDir, { recursive: true });
  }

  /**
   * `s3://bucket/prefix` with `LAKE_S3_ENDPOINT` (R2: https://<account>.r2.cloudflarestorage.com;
   * MinIO or a local server: http://127.0.0.1:port, path-style), the standard AWS
   * credential variables, `AWS_REGION` (default `auto`), and `LAKE_CACHE_DIR` for the
   * local staging area and cache (default `.lake-cache/<bucket>/<prefix>`).
   */
  static fromUrl(url: string, env: NodeJS.ProcessEnv = process.env): S3Store {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
    if (!match) throw new Error(`not an s3:// lake location: ${url}`);
    const bucket = match[1]!;
    const prefix = match[2]!.replace(/\/+$/, '');
    const config: S3ClientConfig = { region: env.AWS_REGION ?? 'auto' };
    if (env.LAKE_S3_ENDPOINT) {
      config.endpoint = env.LAKE_S3_ENDPOINT;
      config.forcePathStyle = true;
    }
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
      config.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    const workDir = env.LAKE_CACHE_DIR ?? join('.lake-cache', bucket, prefix);
    return new S3Store(new S3Client(config), bucket, prefix, workDir);
  }

  private objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private async listObjects(prefix: string): Promise<Array<{ key: string; size: number }>> {
    const out: Array<{ key: string; size: number }> = [];
    const full = `${this.objectKey(prefix.replace(/\/$/, ''))}/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: this.prefix ? o.Key.slice(this.prefix.length + 1) : o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listObjects(prefix)).map((o) => o.key);
  }

  async logs(prefix: string): Promise<string[]> {
    const keys = new Set<string>();
    for (const { key } of await this.listObjects(prefix)) {
      const cut = key.lastIndexOf('/');
      if (/^\d+$/.test(key.slice(cut + 1))) keys.add(key.slice(0, cut));
    }
    return [...keys].sort();
  }

  async exists(key: string): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  async size(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async putFile(key: string, localFile: string): Promise<void> {
    const body = readFileSync(localFile);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: body }));
    // The staged file becomes the cached copy: no download to read it back.
    const cached = this.cachePath(key, body.length);
    mkdirSync(dirname(cached), { recursive: true });
    renameSync(localFile, cached);
  }

  private async readObject(key: string): Promise<Buffer | null> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async appendLine(key: string, line: string): Promise<void> {
    let next = this.logNext.get(key);
    if (next === undefined) next = (await this.readLines(key)).lines.length;
    const objectKey = this.objectKey(`${key}/${String(next).padStart(SEQ_DIGITS, '0')}`);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: `${line}\n`, IfNoneMatch: '*' }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412) throw new Error(`${this.url}/${key}: line ${next} was written by another writer (one writer per lake)`, { cause: error });
      throw error;
    }
    this.logNext.set(key, next + 1);
  }

  async readLines(key: string): Promise<{ lines: string[]; torn: boolean }> {
    const lines: string[] = [];
    const objects = (await this.listObjects(key)).filter((o) => /\/\d+$/.test(o.key));
    for (const o of objects) {
      const text = (await this.readObject(o.key))?.toString('utf8') ?? '';
      lines.push(text.replace(/\n$/, ''));
    }
    this.logNext.set(key, lines.length);
    // One object per line, each written whole: a log on S3 is never torn.
    return { lines, torn: false };
  }

  async replaceLines(key: string, lines: readonly string[]): Promise<void> {
    const existing = (await this.listObjects(key)).map((o) => o.key);
    await this.delete(existing);
    this.logNext.set(key, 0);
    for (const line of lines) await this.appendLine(key, line);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      if (chunk.length === 0) continue;
      await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((k) => ({ Key: this.objectKey(k) })), Quiet: true } }),
      );
    }
  }

  private cachePath(key: string, size: number): string {
    const tag = createHash('sha1').update(`${key}\n${size}`).digest('hex').slice(0, 12);
    return join(this.workDir, '_cache', `${key}.${tag}`);
  }

  async localPath(key: string): Promise<string> {
    const size = await this.size(key);
    if (size === null) throw new Error(`No such file: ${this.url}/${key}`);
    const path = this.cachePath(key, size);
    if (existsSync(path) && statSync(path).size === size) return path;
    mkdirSync(dirname(path), { recursive: true });
    const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    const temp = `${path}.${process.pid}.download`;
    await pipeline(got.Body as Readable, createWriteStream(temp));
    renameSync(temp, path);
    return path;
  }

  async clearStaging(): Promise<void> {
    rmSync(join(this.workDir, STAGING_DIR), { recursive: true, force: true });
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}
