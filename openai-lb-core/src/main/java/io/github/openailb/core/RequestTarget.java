package io.github.openailb.core;

import java.net.URI;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Where one attempt goes: the backend's base URL (with its path prefix) plus the caller's path
 * and query, with the deployment name rewritten when the backend names it differently; and which
 * model a request is for.
 */
public final class RequestTarget {

	private static final Pattern DEPLOYMENT = Pattern.compile("/openai/deployments/([^/?]+)");

	private RequestTarget() {
	}

	/**
	 * Build the URI of one attempt.
	 * @param backend the backend
	 * @param rawPathAndQuery the caller's path and query, still encoded, e.g.
	 * {@code /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21}
	 * @return the attempt's URI
	 */
	public static URI uri(BackendConfig backend, String rawPathAndQuery) {
		return uri(backend.url(), backend.deployment(), rawPathAndQuery);
	}

	/**
	 * Build the URI of one attempt.
	 * @param attempt the attempt, which knows its backend and the deployment it goes to there
	 * @param rawPathAndQuery the caller's path and query, still encoded
	 * @return the attempt's URI
	 */
	public static URI uri(Step.Attempt attempt, String rawPathAndQuery) {
		Backend backend = attempt.backend();
		String deployment = attempt.deploymentName();
		// calls repeat their path (deployment, api-version): most attempts reuse the last URI, unparsed
		Backend.LastUri last = backend.lastUri;
		if (last != null && last.pathAndQuery().equals(rawPathAndQuery)
				&& java.util.Objects.equals(last.deployment(), deployment)) {
			return last.uri();
		}
		URI uri = uri(backend.config().url(), deployment, rawPathAndQuery);
		backend.lastUri = new Backend.LastUri(rawPathAndQuery, deployment, uri);
		return uri;
	}

	private static URI uri(URI base, String deploymentName, String rawPathAndQuery) {
		String path = (rawPathAndQuery.isEmpty() || rawPathAndQuery.startsWith("/")) ? rawPathAndQuery
				: "/" + rawPathAndQuery;
		if (deploymentName != null) {
			Matcher deployment = inPath(path);
			if (deployment.find()) {
				path = path.substring(0, deployment.start(1)) + deploymentName + path.substring(deployment.end(1));
			}
		}
		return URI.create(base + path);
	}

	/**
	 * Find the model a request is for: the deployment in its path ({@code /openai/deployments/{x}/…}),
	 * else the top-level {@code model} of its JSON body (the {@code /v1} API).
	 * @param rawPathAndQuery the caller's path and query
	 * @param body the caller's body
	 * @return the model, or {@code null} when the request names none
	 */
	public static String model(String rawPathAndQuery, byte[] body) {
		Matcher deployment = inPath(rawPathAndQuery);
		if (deployment.find()) {
			return deployment.group(1);
		}
		return startsWithObject(body) ? ModelRewrite.read(body) : null;
	}

	/**
	 * Build the body of one attempt: the caller's bytes, except that the top-level {@code model}
	 * of a JSON body is replaced when the backend names its deployment and the path does not
	 * carry it (the {@code /v1} API).
	 * @param backend the backend
	 * @param rawPath the caller's path, optionally with its query
	 * @param body the caller's body
	 * @return the bytes to send, the same array when nothing changes
	 */
	public static byte[] body(BackendConfig backend, String rawPath, byte[] body) {
		return body(backend.deployment(), rawPath, body);
	}

	/**
	 * Build the body of one attempt, as {@link #body(BackendConfig, String, byte[])} does, for the
	 * deployment the attempt goes to.
	 * @param attempt the attempt
	 * @param rawPath the caller's path, optionally with its query
	 * @param body the caller's body
	 * @return the bytes to send, the same array when nothing changes
	 */
	public static byte[] body(Step.Attempt attempt, String rawPath, byte[] body) {
		return body(attempt.deploymentName(), rawPath, body);
	}

	private static byte[] body(String deploymentName, String rawPath, byte[] body) {
		if (deploymentName == null || !startsWithObject(body) || inPath(rawPath).find()) {
			return body;
		}
		return ModelRewrite.apply(body, deploymentName);
	}

	/** Looks for the deployment segment in the path only: the query string is the caller's business. */
	private static Matcher inPath(String pathAndQuery) {
		int query = pathAndQuery.indexOf('?');
		return DEPLOYMENT.matcher(pathAndQuery).region(0, (query >= 0) ? query : pathAndQuery.length());
	}

	/** Whether the body is a JSON object, leading white space allowed. */
	private static boolean startsWithObject(byte[] body) {
		for (byte b : body) {
			if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
				return b == '{';
			}
		}
		return false;
	}

	/** Kept apart so Jackson is only needed by users of the v1 deployment rewrite. */
	private static final class ModelRewrite {

		private static final ObjectMapper JSON = new ObjectMapper();

		/** The top-level {@code model} string, read as a stream that stops once it is found. */
		static String read(byte[] body) {
			try (JsonParser parser = JSON.getFactory().createParser(body)) {
				if (parser.nextToken() != JsonToken.START_OBJECT) {
					return null;
				}
				while (parser.nextToken() == JsonToken.FIELD_NAME) {
					boolean model = "model".equals(parser.currentName());
					JsonToken value = parser.nextToken();
					if (model) {
						return (value == JsonToken.VALUE_STRING) ? parser.getText() : null;
					}
					parser.skipChildren();
				}
			}
			catch (java.io.IOException ex) {
				// not JSON after all: the request names no model
			}
			return null;
		}

		static byte[] apply(byte[] body, String model) {
			try {
				JsonNode tree = JSON.readTree(body);
				if (tree instanceof ObjectNode object && object.path("model").isTextual()
						&& !model.equals(object.get("model").asText())) {
					object.put("model", model);
					return JSON.writeValueAsBytes(object);
				}
			}
			catch (java.io.IOException ex) {
				// not JSON after all: the backend judges the caller's bytes
			}
			return body;
		}

	}

}
