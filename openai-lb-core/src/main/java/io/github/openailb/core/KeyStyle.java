package io.github.openailb.core;

/**
 * How a backend expects its API key.
 */
public enum KeyStyle {

	/** Azure OpenAI: the key goes in an {@code api-key} header. */
	API_KEY,

	/** OpenAI and OpenAI-compatible servers: {@code Authorization: Bearer <key>}. */
	BEARER

}
