package io.github.openailb.core;

/**
 * Shares what one application instance learns about backends (cool-downs, misconfiguration)
 * with the other instances of the same application, so N replicas do not each pay their own
 * 429. Implementations must never block or slow the caller: publishing is fire-and-forget, and
 * remote news arrives through the {@link Listener} given to {@link #start}.
 */
public interface SharedState {

	/** The longest reason the engine keeps from another instance; a store may cut at this length too. */
	int MAX_REASON_LENGTH = 200;

	/** Keeps everything local: the default. */
	SharedState LOCAL = new SharedState() {
	};

	/**
	 * Start receiving what other instances learn.
	 * @param listener applies remote news to this instance's backends
	 */
	default void start(Listener listener) {
	}

	/**
	 * Tell the other instances that a backend cools down.
	 * @param backend the backend name
	 * @param until end of the cool-down, epoch milliseconds
	 * @param reason why, without secrets
	 */
	default void coolingDown(String backend, long until, String reason) {
	}

	/**
	 * Tell the other instances that one model's deployment on a backend cools down (its quota is
	 * spent; the backend's other deployments are not). A store that does not keep state per
	 * deployment may ignore it.
	 * @param backend the backend name
	 * @param model the model name the application sends, one of the configured ones
	 * @param until end of the cool-down, epoch milliseconds
	 * @param reason why, without secrets
	 */
	default void coolingDown(String backend, String model, long until, String reason) {
	}

	/**
	 * Tell the other instances that a backend seems not to serve one model (it answered 404 for
	 * it). A store that does not keep state per deployment may ignore it.
	 * @param backend the backend name
	 * @param model the model name the application sends, one of the configured ones
	 * @param reason why, without secrets
	 */
	default void misconfigured(String backend, String model, String reason) {
	}

	/**
	 * Tell the other instances that a backend timed out and is left alone (its breaker held open)
	 * until a time.
	 * @param backend the backend name
	 * @param until time of its next probe, epoch milliseconds
	 * @param reason why, without secrets
	 */
	default void circuitOpen(String backend, long until, String reason) {
	}

	/**
	 * Tell the other instances that a backend looks misconfigured.
	 * @param backend the backend name
	 * @param reason why, without secrets
	 */
	default void misconfigured(String backend, String reason) {
	}

	/**
	 * Tell the other instances that an operator disabled a backend at runtime, or lifted that.
	 * A store that keeps it for instances starting later must bound how long (every stored
	 * value expires).
	 * @param backend the backend name
	 * @param disabled {@code true} to disable, {@code false} to lift the disable
	 */
	default void disabledByOperator(String backend, boolean disabled) {
	}

	/**
	 * Tell the other instances that an operator reset a backend (cool-down, breaker and
	 * misconfiguration mark), and forget what is stored of its cool-down and mark.
	 * @param backend the backend name
	 */
	default void reset(String backend) {
	}

	/**
	 * Receives what other instances learned. The engine's listener trusts none of it beyond
	 * bounds: a deadline not in the future is ignored, one further ahead than
	 * {@code max-cool-down} is capped there, a backend not configured on this instance is
	 * ignored, and a reason is cut to {@link #MAX_REASON_LENGTH} printable characters. Remote
	 * news extends a running cool-down, never shortens it; only an operator's reset ends one
	 * early. Called from any thread.
	 */
	interface Listener {

		/**
		 * Return the backends this instance has, the only ones whose news it reads.
		 * @return the backend names
		 */
		java.util.List<String> backends();

		/**
		 * Return the models whose state this instance keeps per deployment on a backend, the only
		 * ones whose news it reads for that backend.
		 * @param backend the backend name
		 * @return the model names, empty for none
		 */
		default java.util.List<String> models(String backend) {
			return java.util.List.of();
		}

		/**
		 * Another instance saw one model's deployment on this backend ask for a pause.
		 * @param backend the backend name
		 * @param model the model name
		 * @param until end of the cool-down, epoch milliseconds of this instance's clock
		 */
		default void coolingDown(String backend, String model, long until) {
		}

		/**
		 * Another instance found that this backend does not serve one model.
		 * @param backend the backend name
		 * @param model the model name
		 * @param reason why
		 */
		default void misconfigured(String backend, String model, String reason) {
		}

		/**
		 * Another instance saw this backend ask for a pause.
		 * @param backend the backend name
		 * @param until end of the cool-down, epoch milliseconds of this instance's clock (a store
		 * should carry the remaining time, not the other instance's deadline, so that clocks that
		 * disagree do not matter)
		 */
		void coolingDown(String backend, long until);

		/**
		 * Another instance left this backend alone after a timeout.
		 * @param backend the backend name
		 * @param until time of its next probe, epoch milliseconds of this instance's clock
		 */
		default void circuitOpen(String backend, long until) {
		}

		/**
		 * Another instance found this backend misconfigured.
		 * @param backend the backend name
		 * @param reason why
		 */
		void misconfigured(String backend, String reason);

		/**
		 * An operator disabled a backend on another instance, or lifted that.
		 * @param backend the backend name
		 * @param disabled whether it is now disabled by an operator
		 */
		default void disabledByOperator(String backend, boolean disabled) {
		}

		/**
		 * An operator reset a backend on another instance.
		 * @param backend the backend name
		 */
		default void reset(String backend) {
		}

	}

}
