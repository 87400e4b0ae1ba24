//! A response body read as it arrives (the Streams API's reader), for answers big enough
//! that their first part is worth using before the rest has come.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::{Function, Promise, Reflect, Uint8Array};
use web_sys::{ReadableStream, ReadableStreamDefaultReader};

/// Reads a body's chunks into one reused buffer.
pub struct BodyReader {
    reader: ReadableStreamDefaultReader,
    buffer: Vec<u8>,
}

impl BodyReader {
    pub fn new(body: &ReadableStream) -> Result<BodyReader, String> {
        let reader = body
            .get_reader()
            .dyn_into::<ReadableStreamDefaultReader>()
            .map_err(|_| "the answer's body cannot be read".to_string())?;
        Ok(BodyReader {
            reader,
            buffer: Vec::new(),
        })
    }

    /// The next chunk of the body, or `None` at its end.
    pub async fn next(&mut self) -> Result<Option<&[u8]>, String> {
        let result = JsFuture::from(self.reader.read())
            .await
            .map_err(|e| format!("reading the answer: {e:?}"))?;
        let done = Reflect::get(&result, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let chunk = Reflect::get(&result, &"value".into())
            .ok()
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .ok_or_else(|| "the answer's body is not bytes".to_string())?;
        let len = chunk.length() as usize;
        self.buffer.resize(len, 0);
        chunk.copy_to(&mut self.buffer[..len]);
        Ok(Some(&self.buffer[..len]))
    }
}

/// Resolves after the browser has painted the next frame. A body whose chunks are all there
/// already is read without ever leaving the microtask queue: awaiting this in between lets
/// what was drawn from the first chunks reach the screen.
pub async fn after_paint() {
    let promise = Promise::new(&mut |resolve: Function, _| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            return;
        };
        let later = window.clone();
        let frame = Closure::once_into_js(move || {
            let _ = later.set_timeout_with_callback(&resolve);
        });
        let _ = window.request_animation_frame(frame.unchecked_ref());
    });
    let _ = JsFuture::from(promise).await;
}
