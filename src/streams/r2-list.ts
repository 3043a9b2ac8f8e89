/** Every object of an R2 listing, following its pages (R2 answers at most 1,000 keys per call). */
export async function* listObjects(bucket: R2Bucket, options: R2ListOptions = {}): AsyncGenerator<R2Object, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ ...options, ...(cursor ? { cursor } : {}) });
    yield* page.objects;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
