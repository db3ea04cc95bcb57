package io.github.openailb.core;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What an adapter does next for one request: send an attempt, wait, or give up.
 */
public sealed interface Step permits Step.Attempt, Step.Wait, Step.GiveUp {

	/**
	 * Send the request to this backend.
	 *
	 * @param backend the chosen backend
	 * @param number 1 for the first attempt of the request, 2 for the next, and so on
	 * @param startNanos {@link System#nanoTime()} when the attempt was chosen
	 */
	record Attempt(Backend backend, int number, long startNanos) implements Step {
	}

	/**
	 * Every backend is cooling down but the soonest frees up within {@code max-wait}: wait (without
	 * blocking a reactive thread) and ask again.
	 *
	 * @param delay how long to wait
	 */
	record Wait(Duration delay) implements Step {
	}

	/**
	 * Nothing is left to try.
	 *
	 * @param ending which answer the caller gets
	 * @param retryAfterSeconds for {@link Ending#THROTTLED}: whole seconds until the soonest backend is
	 * free, at least 1
	 * @param reason what happened, naming the backends tried; safe to show
	 */
	record GiveUp(Ending ending, long retryAfterSeconds, String reason) implements Step {

		/**
		 * The OpenAI-shaped JSON error body of the synthetic 429.
		 * @return the body as UTF-8 bytes
		 */
		public byte[] throttledBody() {
			String message = "All backends are throttled or unavailable (" + jsonEscaped(this.reason)
					+ "). Please retry after " + this.retryAfterSeconds + " seconds.";
			return ("{\"error\":{\"message\":\"" + message
					+ "\",\"type\":\"rate_limit_exceeded\",\"param\":null,\"code\":\"429\"}}")
				.getBytes(StandardCharsets.UTF_8);
		}

		private static String jsonEscaped(String text) {
			StringBuilder out = new StringBuilder(text.length());
			for (char c : text.toCharArray()) {
				if (c == '"' || c == '\\') {
					out.append('\\').append(c);
				}
				else if (c >= ' ') {
					out.append(c);
				}
			}
			return out.toString();
		}

	}

	/**
	 * How a request ended.
	 */
	enum Ending {

		/** A backend's answer (2xx or a client 4xx) reached the caller. */
		ANSWERED,

		/** Every backend failed; the caller gets the last real answer (not a 429). */
		LAST_ANSWER,

		/** Every backend is throttled; the caller gets a synthetic 429 with Retry-After. */
		THROTTLED,

		/** No backend gave any answer (connection errors, timeouts, all disabled): a clear error. */
		FAILED,

		/** The caller went away. */
		CANCELLED

	}

}
