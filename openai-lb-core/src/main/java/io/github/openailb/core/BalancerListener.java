package io.github.openailb.core;

import java.time.Duration;

/**
 * Observes what the balancer does, for metrics. Called on request threads: keep it quick.
 */
public interface BalancerListener {

	/** A listener that ignores everything. */
	BalancerListener NONE = new BalancerListener() {
	};

	/**
	 * An attempt ended.
	 * @param backend the backend tried
	 * @param outcome what the answer meant
	 * @param nanos how long the attempt took until its status was known
	 */
	default void attemptEnded(Backend backend, Outcome outcome, long nanos) {
	}

	/**
	 * A backend started (or moved) a cool-down.
	 * @param backend the backend
	 * @param duration how long it cools down
	 */
	default void coolDownStarted(Backend backend, Duration duration) {
	}

	/**
	 * A request left a backend for the next one.
	 * @param from the backend left
	 * @param outcome why
	 */
	default void failedOver(Backend from, Outcome outcome) {
	}

	/**
	 * A request ended.
	 * @param attempts attempts it made
	 * @param ending how it ended
	 */
	default void requestEnded(int attempts, Step.Ending ending) {
	}

}
