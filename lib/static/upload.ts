import type { HttpRequest, HttpResponse } from '../types.js';

export interface UploadOptions {
  /** The real path of the write directory. */
  dir: string;
  /** Largest body stored, in bytes (413 before 100 Continue). */
  maxSize: number;
  /** Accept PUT with Content-Range (partial writes), as httpout can. */
  partial: boolean;
  /** Serve DELETE. */
  allowDelete: boolean;
  /** Allow names starting with '.'. */
  dotfiles: boolean;
}

/** PUT, POST or DELETE of `request.path` (relative to the mount) in the write directory. */
export async function uploadResponse(request: HttpRequest, urlPath: string, options: UploadOptions): Promise<HttpResponse> {
  void request; void urlPath; void options;
  throw new Error('upload.ts: not built yet');
}
