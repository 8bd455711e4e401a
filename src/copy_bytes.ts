// Copies between byte arrays without allocating. `dst.set(src.subarray(...))` creates a view
// object per call, which on the per-message paths (ring records, frames) was a quarter of the
// acceptor's time: short copies take a plain loop, long ones a view (its cost is amortised).

/** Below this many bytes a loop beats creating a subarray view for TypedArray.set. */
const LOOP_MAX_BYTES = 128;

export function copyBytes(dst: Uint8Array, dstAt: number, src: Uint8Array, srcAt: number, length: number): void {
  if (length <= LOOP_MAX_BYTES) {
    for (let i = 0; i < length; i++) dst[dstAt + i] = src[srcAt + i]!;
  } else if (srcAt === 0 && length === src.length) {
    dst.set(src, dstAt);
  } else {
    dst.set(src.subarray(srcAt, srcAt + length), dstAt);
  }
}
