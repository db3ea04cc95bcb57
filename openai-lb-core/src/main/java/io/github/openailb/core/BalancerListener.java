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
	 * An attempt ended; told which model's deployment it went to. By default, reports
	 * {@link #attemptEnded(Backend, Outcome, long)}.
	 * @param backend the backend tried
	 * @param model the model whose deployment on the backend was tried, one of
	 * {@link LoadBalancer#models()}; {@code null} when the backend kept one state for the request
	 * @param outcome what the answer meant
	 * @param nanos how long the attempt took until its status was known
	 */
	default void attemptEnded(Backend backend, String model, Outcome outcome, long nanos) {
		attemptEnded(backend, outcome, nanos);
	}

	/**
	 * A model's deployment on a backend started (or moved) a cool-down; the backend's other
	 * deployments did not. By default, reports nothing.
	 * @param backend the backend
	 * @param model the model, one of {@link LoadBalancer#models()}
	 * @param duration how long it cools down
	 */
	default void coolDownStarted(Backend backend, String model, Duration duration) {
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
