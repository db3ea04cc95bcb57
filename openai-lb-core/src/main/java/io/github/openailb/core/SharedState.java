package io.github.openailb.core;

/**
 * Shares what one application instance learns about backends (cool-downs, misconfiguration)
 * with the other instances of the same application, so N replicas do not each pay their own
 * 429. Implementations must never block or slow the caller: publishing is fire-and-forget, and
 * remote news arrives through the {@link Listener} given to {@link #start}.
 */
public interface SharedState {

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
	 * Tell the other instances that a backend looks misconfigured.
	 * @param backend the backend name
	 * @param reason why, without secrets
	 */
	default void misconfigured(String backend, String reason) {
	}

	/**
	 * Receives what other instances learned.
	 */
	interface Listener {

		/**
		 * Another instance saw this backend ask for a pause.
		 * @param backend the backend name
		 * @param until end of the cool-down, epoch milliseconds
		 */
		void coolingDown(String backend, long until);

		/**
		 * Another instance found this backend misconfigured.
		 * @param backend the backend name
		 * @param reason why
		 */
		void misconfigured(String backend, String reason);

	}

}
