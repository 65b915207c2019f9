// Send a file to a resumable upload session (Cloud Storage's protocol): chunks of a multiple of
// 256 KiB with Content-Range; 308 means "go on"; after a broken request the session is asked how
// much it has (`bytes */total`) and the upload resumes from there.
const CHUNK = 8 * 1024 * 1024;
const RETRIES = 5;

function put(url, body, range, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers || {})) {
      if (k.toLowerCase() !== "content-length") xhr.setRequestHeader(k, v);
    }
    xhr.setRequestHeader("Content-Range", range);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Error("network error"));
    xhr.send(body);
  });
}

function committed(xhr) {
  const range = xhr.getResponseHeader("Range");
  return range ? Number(range.split("-")[1]) + 1 : 0;
}

export async function uploadResumable(session, file, onProgress) {
  const total = file.size;
  const headers = session.headers || {};
  let offset = 0;
  let failures = 0;
  while (offset < total) {
    const end = Math.min(offset + CHUNK, total);
    let xhr;
    try {
      xhr = await put(session.upload_url, file.slice(offset, end), `bytes ${offset}-${end - 1}/${total}`, headers,
        (loaded) => onProgress(offset + loaded));
    } catch (error) {
      if (++failures > RETRIES) throw error;
      await new Promise((r) => setTimeout(r, 500 * failures));
      xhr = await put(session.upload_url, null, `bytes */${total}`, headers).catch(() => null);
      if (xhr && xhr.status === 308) offset = committed(xhr);
      continue;
    }
    if (xhr.status === 308) {
      offset = committed(xhr) || end;
    } else if (xhr.status >= 200 && xhr.status < 300) {
      offset = total;
    } else {
      throw new Error(`storage answered ${xhr.status}: ${xhr.responseText.slice(0, 200)}`);
    }
    onProgress(offset);
  }
}
