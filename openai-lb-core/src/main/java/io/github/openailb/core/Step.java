package io.github.openailb.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What an adapter does next for one request: send an attempt, wait, or give up.
 */
public sealed interface Step permits Step.Attempt, Step.Wait, Step.GiveUp {

	/**
	 * Send the request to this backend. The attempt holds one permission of the backend's
	 * circuit breaker until it is reported; its first report (answer, failure, cancel) settles
	 * it, by a compare-and-set, and any later report of the same attempt changes nothing. A
	 * cancel arrives on the caller's thread while the answer arrives on an I/O thread: the
	 * permission must be given back or spent on a result, never both.
	 */
	final class Attempt implements Step {

		/** Sent, not reported yet: it holds a breaker permission. */
		static final int UNDER_WAY = 0;

		/** Reported with an HTTP status. */
		static final int ANSWERED = 1;

		/** Reported without an answer: I/O error, timeout, no credential. */
		static final int FAILED = 2;

		/** The caller went away first; the permission was given back. */
		static final int ABANDONED = 3;

		/** Its answer's body broke after it started; the failure was recorded. */
		static final int BROKEN = 4;

		private static final VarHandle STATE;

		static {
			try {
				STATE = MethodHandles.lookup().findVarHandle(Attempt.class, "state", int.class);
			}
			catch (ReflectiveOperationException ex) {
				throw new ExceptionInInitializerError(ex);
			}
		}

		private final Backend backend;

		private final Deployment deployment;

		private final int number;

		private final long startNanos;

		@SuppressWarnings("unused") // through STATE
		private volatile int state;

		Attempt(Backend backend, Deployment deployment, int number, long startNanos) {
			this.backend = backend;
			this.deployment = deployment;
			this.number = number;
			this.startNanos = startNanos;
		}

		/**
		 * Return the model's deployment on the chosen backend, whose state this attempt's answer
		 * updates.
		 * @return the deployment, or {@code null} when the backend keeps one state for the request
		 */
		public Deployment deployment() {
			return this.deployment;
		}

		/**
		 * Return the deployment name to send instead of the caller's.
		 * @return the backend's name for the request's model when it differs, its one
		 * {@code deployment} for every request, or {@code null} to keep the caller's
		 */
		public String deploymentName() {
			if (this.deployment == null) {
				return this.backend.config().deployment();
			}
			return this.deployment.name().equals(this.deployment.model()) ? null : this.deployment.name();
		}

		/**
		 * Return the chosen backend.
		 * @return the backend
		 */
		public Backend backend() {
			return this.backend;
		}

		/**
		 * Return which attempt of its request this is.
		 * @return 1 for the first attempt of the request, 2 for the next, and so on
		 */
		public int number() {
			return this.number;
		}

		/**
		 * Return when the attempt was chosen.
		 * @return {@link System#nanoTime()} at that moment
		 */
		public long startNanos() {
			return this.startNanos;
		}

		/** Move from one state to the next; only one thread ever wins a given move. */
		boolean settle(int from, int to) {
			return STATE.compareAndSet(this, from, to);
		}

		@Override
		public String toString() {
			return "Attempt[backend=" + this.backend.name() + ", number=" + this.number + "]";
		}

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
	 * free, at least 1; for {@link Ending#UNAVAILABLE}: the same when the next probe time is known,
	 * else 0
	 * @param reason what happened, naming the backends tried; safe to show
	 */
	record GiveUp(Ending ending, long retryAfterSeconds, String reason) implements Step {

		/**
		 * The OpenAI-shaped JSON error body of the synthetic 429.
		 * @return the body as UTF-8 bytes
		 */
		public byte[] throttledBody() {
			return errorBody("All backends are throttled or unavailable (" + jsonEscaped(this.reason) + ").",
					"rate_limit_exceeded", "429");
		}

		/**
		 * The OpenAI-shaped JSON error body of the synthetic 503 sent when every backend's circuit
		 * breaker is open.
		 * @return the body as UTF-8 bytes
		 */
		public byte[] unavailableBody() {
			return errorBody("No backend can take the request now: their circuit breakers are open ("
					+ jsonEscaped(this.reason) + ").", "service_unavailable", "service_unavailable");
		}

		/** An OpenAI-shaped error body of the balancer's own, with the wait when one is known. */
		private byte[] errorBody(String message, String type, String code) {
			String full = message
					+ ((this.retryAfterSeconds > 0) ? " Please retry after " + this.retryAfterSeconds + " seconds." : "");
			return ("{\"error\":{\"message\":\"" + full + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":\""
					+ code + "\"}}")
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

		/**
		 * The OpenAI-shaped JSON error body of the synthetic 404 sent when no backend serves the
		 * request's model.
		 * @return the body as UTF-8 bytes
		 */
		public byte[] modelNotServedBody() {
			return errorBody(jsonEscaped(this.reason) + ".", "invalid_request_error", "DeploymentNotFound");
		}

		/**
		 * The OpenAI-shaped JSON error body of the synthetic 503 sent when the backend holding a
		 * request's server-side state cannot take it.
		 * @return the body as UTF-8 bytes
		 */
		public byte[] statefulUnavailableBody() {
			return errorBody("The request uses server-side state (files, batches, assistants, stored "
					+ "responses ...) that only its home backend holds, and " + jsonEscaped(this.reason)
					+ ". Other backends are not tried (see openai.lb.stateful.backend).", "service_unavailable",
					"stateful_backend_unavailable");
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

		/**
		 * No backend can be tried now because its circuit breaker is open (failures, not a
		 * cool-down): the caller gets a synthetic 503, with Retry-After when the next probe time
		 * is known.
		 */
		UNAVAILABLE,

		/** No backend gave any answer (connection errors, timeouts, all disabled): a clear error. */
		FAILED,

		/** The caller went away. */
		CANCELLED,

		/**
		 * A request tied to server-side state could not be sent to the backend holding that state,
		 * and no other backend may take it: the caller gets a synthetic 503, with Retry-After when
		 * the backend's next free time is known.
		 */
		STATEFUL_UNAVAILABLE,

		/**
		 * No backend serves the request's model (every backend lists its deployments, none this
		 * model): nothing was sent, and the caller gets a synthetic 404 naming the model.
		 */
		MODEL_NOT_SERVED

	}

}
