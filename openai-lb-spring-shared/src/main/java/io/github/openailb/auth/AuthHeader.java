package io.github.openailb.auth;

/**
 * One credential header for one backend, e.g. {@code api-key: ...} or
 * {@code Authorization: Bearer ...}. Its {@link #toString()} never shows the value.
 *
 * @param name the header name
 * @param value the header value, a secret
 */
public record AuthHeader(String name, String value) {

	@Override
	public String toString() {
		return "AuthHeader[name=" + this.name + ", value=******]";
	}

}
