package io.github.openailb.core;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * One backend with its live state, shared by every request and every client adapter. All
 * fields are written without locks: the last writer of a cool-down wins, which is what a fresh
 * hint from the backend means.
 */
public final class Backend {

	private final BackendConfig config;

	private final int index;

	private final CircuitBreaker breaker;

	private final Clock clock;

	private volatile long coolDownUntil;

	/** When the breaker opened on its own (failure rate), the time it will let a probe through. */
	private volatile long breakerOpenUntil;

	private volatile String misconfiguration;

	private volatile Headroom headroom;

	/** Client-side budget, {@code null} when none is configured. */
	private final LocalBudget budget;

	private final LongAdder attempts = new LongAdder();

	private final LongAdder successes = new LongAdder();

	private final LongAdder throttled = new LongAdder();

	private final LongAdder failures = new LongAdder();

	private final LongAdder misconfigured = new LongAdder();

	private final LongAdder clientErrors = new LongAdder();

	Backend(BackendConfig config, int index, CircuitBreaker breaker, Clock clock) {
		this.config = config;
		this.index = index;
		this.breaker = breaker;
		this.clock = clock;
		this.budget = (config.rpm() > 0 || config.tpm() > 0) ? new LocalBudget(config.rpm(), config.tpm()) : null;
	}

	/**
	 * Return the backend's configuration.
	 * @return the configuration
	 */
	public BackendConfig config() {
		return this.config;
	}

	/**
	 * Return the backend's unique name.
	 * @return the name
	 */
	public String name() {
		return this.config.name();
	}

	/**
	 * Return the backend's circuit breaker.
	 * @return the breaker
	 */
	public CircuitBreaker breaker() {
		return this.breaker;
	}

	int index() {
		return this.index;
	}

	/**
	 * Return what this backend can do now.
	 * @return the state
	 */
	public BackendState state() {
		if (!this.config.enabled()) {
			return BackendState.DISABLED;
		}
		if (this.coolDownUntil > this.clock.millis()) {
			return BackendState.COOLING_DOWN;
		}
		CircuitBreaker.State breakerState = this.breaker.getState();
		if (breakerState == CircuitBreaker.State.OPEN || breakerState == CircuitBreaker.State.FORCED_OPEN) {
			return BackendState.CIRCUIT_OPEN;
		}
		if (breakerState == CircuitBreaker.State.HALF_OPEN) {
			return BackendState.HALF_OPEN;
		}
		return (this.misconfiguration != null) ? BackendState.MISCONFIGURED : BackendState.AVAILABLE;
	}

	/**
	 * Return the end of the current cool-down, if one is running.
	 * @return the end of the cool-down, or {@code null}
	 */
	public Instant coolingDownUntil() {
		long until = this.coolDownUntil;
		return (until > this.clock.millis()) ? Instant.ofEpochMilli(until) : null;
	}

	/**
	 * Return why the backend is marked misconfigured, without secrets.
	 * @return the reason, or {@code null}
	 */
	public String misconfiguration() {
		return this.misconfiguration;
	}

	/**
	 * Return the attempts and their outcomes counted so far.
	 * @return the counts
	 */
	public Counts counts() {
		return new Counts(this.attempts.sum(), this.successes.sum(), this.throttled.sum(), this.failures.sum(),
				this.misconfigured.sum(), this.clientErrors.sum());
	}

	/**
	 * Return the quota the backend last reported, fresh or not.
	 * @return the last report, or {@code null} if it never sent one
	 */
	public Headroom headroom() {
		return this.headroom;
	}

	void report(Headroom headroom) {
		this.headroom = headroom;
	}

	/**
	 * Whether the known quota covers a request of this size: the client-side budget always,
	 * the reported headroom only when the strategy reads it.
	 */
	boolean quotaAllows(long now, long estimatedTokens, Strategy strategy) {
		if (this.budget != null && !this.budget.allows(now, estimatedTokens)) {
			return false;
		}
		if (strategy != Strategy.HEADROOM) {
			return true;
		}
		Headroom last = this.headroom;
		return last == null || !last.isFresh(now) || !last.cannotTake(estimatedTokens);
	}

	void consumeBudget(long now, long estimatedTokens) {
		if (this.budget != null) {
			this.budget.consume(now, estimatedTokens);
		}
	}

	/** The weight used to choose within a tier; scaled so headroom can lower it smoothly. */
	long effectiveWeight(Strategy strategy, long now) {
		long weight = this.config.weight();
		if (strategy != Strategy.HEADROOM) {
			return weight;
		}
		Headroom last = this.headroom;
		double share = (last != null && last.isFresh(now)) ? last.share() : -1;
		return (share < 0) ? weight * 1000 : Math.max(1, Math.round(weight * 1000 * share));
	}

	/** Whether a request may pick this backend now; the breaker still has the last word. */
	boolean selectable(long now) {
		if (!this.config.enabled() || this.coolDownUntil > now) {
			return false;
		}
		CircuitBreaker.State state = this.breaker.getState();
		if (state == CircuitBreaker.State.FORCED_OPEN) {
			return false;
		}
		// an open breaker turns half-open lazily, on the permission request after its wait
		return state != CircuitBreaker.State.OPEN || this.breakerOpenUntil <= now;
	}

	/** The earliest time this backend may take traffic again, or {@code now} if it may now. */
	long freeAt(long now) {
		long free = Math.max(now, this.coolDownUntil);
		CircuitBreaker.State state = this.breaker.getState();
		if (state == CircuitBreaker.State.OPEN) {
			free = Math.max(free, this.breakerOpenUntil);
		}
		return free;
	}

	/**
	 * Start (or move) a cool-down; the breaker stays open exactly as long. The breaker only
	 * half-opens once its clock is strictly after the deadline, so it is given one nanosecond
	 * less: at the deadline both agree the backend may be probed.
	 */
	void coolDown(long until) {
		this.coolDownUntil = until;
		this.breaker.transitionToOpenStateUntil(Instant.ofEpochMilli(until).minusNanos(1));
	}

	/**
	 * Clear the marks of past trouble after a success; returns whether there were any. A
	 * cool-down still running was set by a newer answer than this success: it stays.
	 */
	boolean clearImpairment(long now) {
		boolean impaired = false;
		if (this.misconfiguration != null) {
			this.misconfiguration = null;
			impaired = true;
		}
		long until = this.coolDownUntil;
		if (until != 0 && until <= now) {
			this.coolDownUntil = 0;
			impaired = true;
		}
		return impaired;
	}

	/**
	 * Record a failure in the breaker. A breaker only opens inside such a call, so this is where
	 * the end of a failure-rate opening is noted (rather than through a breaker event listener,
	 * which would make the breaker allocate an event on every successful call).
	 */
	void recordFailure(long nanos, Throwable error) {
		this.breaker.onError(nanos, TimeUnit.NANOSECONDS, error);
		long now = this.clock.millis();
		if (this.breaker.getState() == CircuitBreaker.State.OPEN && this.coolDownUntil <= now
				&& this.breakerOpenUntil <= now) {
			long wait = this.breaker.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1);
			// the breaker lets a probe through only strictly after its deadline: the next millisecond
			this.breakerOpenUntil = now + wait + 1;
		}
	}

	long coolDownDeadline() {
		return this.coolDownUntil;
	}

	void markMisconfigured(String reason) {
		this.misconfiguration = reason;
	}

	void count(Outcome outcome) {
		this.attempts.increment();
		switch (outcome) {
			case SUCCESS -> this.successes.increment();
			case THROTTLED -> this.throttled.increment();
			case FAILURE -> this.failures.increment();
			case MISCONFIGURED -> this.misconfigured.increment();
			case CLIENT_ERROR -> this.clientErrors.increment();
		}
	}

	@Override
	public String toString() {
		return name();
	}

	/**
	 * Attempts made on a backend and what they ended in.
	 *
	 * @param attempts all attempts
	 * @param successes 2xx and 3xx answers
	 * @param throttled 429 answers
	 * @param failures 5xx, 408, I/O errors and timeouts
	 * @param misconfigured 401, 403, 404 answers and credential failures
	 * @param clientErrors other 4xx answers
	 */
	public record Counts(long attempts, long successes, long throttled, long failures, long misconfigured,
			long clientErrors) {
	}

}
