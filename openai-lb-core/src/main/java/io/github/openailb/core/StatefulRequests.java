package io.github.openailb.core;

/**
 * Tells the requests that create or use state kept by one backend (files, batches, assistants and
 * threads, vector stores, fine-tuning jobs, stored responses, conversations, ...) from the
 * stateless ones (chat completions, embeddings, images, audio, models). A backend does not know
 * the objects another one holds, so the stateful requests must all go to the same backend.
 * <p>
 * The path decides, after an optional {@code /openai} and {@code /v1} prefix, case ignored. Only
 * a {@code POST} to {@code /responses} is judged by its body: it keeps state when it refers to
 * an earlier response or a conversation, or when it is stored (the API's default, unless it says
 * {@code "store": false}), because a later call may refer to it by its id.
 */
public final class StatefulRequests {

	/** First path segments of the APIs whose objects live on the backend that created them. */
	private static final String[] STATEFUL = { "files", "uploads", "batches", "assistants", "threads",
			"vector_stores", "fine_tuning", "fine-tunes", "conversations", "containers", "realtime", "evals",
			"videos" };

	private static final byte[] PREVIOUS_RESPONSE_ID = bytes("previous_response_id");

	private static final byte[] CONVERSATION = bytes("conversation");

	private static final byte[] STORE = bytes("store");

	private static final byte[] NULL = bytes("null");

	private static final byte[] FALSE = bytes("false");

	private StatefulRequests() {
	}

	/**
	 * Whether a request creates or uses state that only one backend holds.
	 * @param method the HTTP method, e.g. {@code POST}
	 * @param rawPathAndQuery the caller's path, optionally with its query, e.g.
	 * {@code /openai/v1/files/file-abc?api-version=preview}
	 * @param body the request body, possibly empty; read only for a {@code POST} to
	 * {@code /responses}
	 * @return {@code true} when the request must go to the backend that keeps the state
	 */
	public static boolean isStateful(String method, String rawPathAndQuery, byte[] body) {
		// on every request: read the path in place, without copying it
		String path = rawPathAndQuery;
		int length = pathLength(path);
		int at = skipSegment(path, length, 0, "/openai");
		at = skipSegment(path, length, at, "/v1");
		if (at >= length || path.charAt(at) != '/') {
			return false;
		}
		int start = at + 1;
		int end = path.indexOf('/', start);
		end = (end >= 0 && end < length) ? end : length;
		for (String name : STATEFUL) {
			if (segmentIs(path, start, end, name)) {
				return true;
			}
		}
		if (!segmentIs(path, start, end, "responses")) {
			return false;
		}
		boolean underAnId = end + 1 < length;
		return underAnId || !"POST".equalsIgnoreCase(method) || keepsState(body);
	}

	/**
	 * Whether a Responses body refers to state or asks to be stored: a non-null top-level
	 * {@code previous_response_id} or {@code conversation}, or no {@code "store": false}. One pass
	 * over the top level, without allocation or recursion; a body that is not a JSON object is
	 * stateless (the backend will judge it).
	 */
	static boolean keepsState(byte[] body) {
		int i = skipSpace(body, 0);
		if (i >= body.length || body[i] != '{') {
			return false;
		}
		boolean stored = true;
		boolean refers = false;
		i = skipSpace(body, i + 1);
		if (i < body.length && body[i] == '}') {
			return true;
		}
		while (i < body.length) {
			if (body[i] != '"') {
				return false;
			}
			int keyStart = i + 1;
			i = endOfString(body, i);
			if (i < 0) {
				return false;
			}
			int keyEnd = i - 1;
			i = skipSpace(body, i);
			if (i >= body.length || body[i] != ':') {
				return false;
			}
			int valueStart = skipSpace(body, i + 1);
			i = endOfValue(body, valueStart);
			if (i < 0) {
				return false;
			}
			if (is(body, keyStart, keyEnd, PREVIOUS_RESPONSE_ID) || is(body, keyStart, keyEnd, CONVERSATION)) {
				refers |= !is(body, valueStart, i, NULL);
			}
			else if (is(body, keyStart, keyEnd, STORE)) {
				stored = !is(body, valueStart, i, FALSE);
			}
			i = skipSpace(body, i);
			if (i < body.length && body[i] == '}') {
				return refers || stored;
			}
			if (i >= body.length || body[i] != ',') {
				return false;
			}
			i = skipSpace(body, i + 1);
		}
		return false;
	}

	/** The length of the path without its query string or fragment. */
	private static int pathLength(String pathAndQuery) {
		for (int i = 0; i < pathAndQuery.length(); i++) {
			char c = pathAndQuery.charAt(i);
			if (c == '?' || c == '#') {
				return i;
			}
		}
		return pathAndQuery.length();
	}

	/** Skip {@code segment} at {@code at} when it is a whole path segment there, case ignored. */
	private static int skipSegment(String path, int length, int at, String segment) {
		int end = at + segment.length();
		if (end <= length && path.regionMatches(true, at, segment, 0, segment.length())
				&& (end == length || path.charAt(end) == '/')) {
			return end;
		}
		return at;
	}

	private static boolean segmentIs(String path, int start, int end, String name) {
		return end - start == name.length() && path.regionMatches(true, start, name, 0, name.length());
	}

	private static int skipSpace(byte[] body, int i) {
		while (i < body.length && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) {
			i++;
		}
		return i;
	}

	/** The index after the string starting at {@code i}, or -1 if it does not end. */
	private static int endOfString(byte[] body, int i) {
		for (int j = i + 1; j < body.length; j++) {
			if (body[j] == '\\') {
				j++;
			}
			else if (body[j] == '"') {
				return j + 1;
			}
		}
		return -1;
	}

	/** The index after the value starting at {@code i}, or -1 if it does not end. */
	private static int endOfValue(byte[] body, int i) {
		if (i >= body.length) {
			return -1;
		}
		byte first = body[i];
		if (first == '"') {
			return endOfString(body, i);
		}
		if (first == '{' || first == '[') {
			int depth = 0;
			for (int j = i; j < body.length; j++) {
				byte b = body[j];
				if (b == '"') {
					j = endOfString(body, j);
					if (j < 0) {
						return -1;
					}
					j--;
				}
				else if (b == '{' || b == '[') {
					depth++;
				}
				else if ((b == '}' || b == ']') && --depth == 0) {
					return j + 1;
				}
			}
			return -1;
		}
		int j = i;
		while (j < body.length && body[j] != ',' && body[j] != '}' && body[j] != ']' && body[j] != ' '
				&& body[j] != '\t' && body[j] != '\n' && body[j] != '\r') {
			j++;
		}
		return (j > i) ? j : -1;
	}

	private static boolean is(byte[] body, int start, int end, byte[] name) {
		if (end - start != name.length) {
			return false;
		}
		for (int k = 0; k < name.length; k++) {
			if (body[start + k] != name[k]) {
				return false;
			}
		}
		return true;
	}

	private static byte[] bytes(String text) {
		return text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
	}

}
