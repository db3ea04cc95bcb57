package io.github.openailb.core;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's way through the backends: which were tried, how long it waited, what the last
 * real answer was. An adapter loops on {@link #next()} and reports every attempt it sends with
 * {@link #answered}, {@link #failed} or {@link #abandoned}. Not thread-safe: a request runs
 * one attempt at a time.
 */
public final class Exchange {

	private static final Logger logger = LoggerFactory.getLogger(LoadBalancer.class);

	private final LoadBalancer balancer;

	private final long[] tried;

	/** Refused by their breaker in this round; cleared when the request waits. */
	private final long[] refused;

	private final long started;

	private final long estimatedTokens;

	/** Set when a backend was passed over for lack of quota in the current choice. */
	private boolean quotaSkipped;

	private long waited;

	private int attempts;

	private int lastStatus;

	private boolean ended;

	/** The attempt not reported yet, holding a breaker permission; a cancel may come from another thread. */
	private volatile Step.Attempt unreported;

	private StringBuilder history;

	/** The backend the last attempt failed on, until the next attempt makes that a failover. */
	private Backend left;

	private Outcome leftBecause;

	private static final java.util.regex.Pattern QUERY = java.util.regex.Pattern.compile("\\?[^\\s)]*");

	Exchange(LoadBalancer balancer, long estimatedTokens) {
		this.balancer = balancer;
		this.estimatedTokens = estimatedTokens;
		int words = (balancer.backends().size() + 63) >>> 6;
		this.tried = new long[words];
		this.refused = new long[words];
		this.started = balancer.clock().millis();
	}

	/**
	 * Decide the next step of this request.
	 * @return an attempt to send, a wait, or the end
	 */
	public Step next() {
		long now = this.balancer.clock().millis();
		Backend chosen;
		while ((chosen = choose(now)) != null) {
			if (chosen.breaker().tryAcquirePermission()) {
				set(this.tried, chosen.index());
				chosen.consumeBudget(now, this.estimatedTokens);
				this.attempts++;
				if (logger.isDebugEnabled()) {
					logger.debug("openai-lb: attempt {} goes to backend '{}'", this.attempts, chosen.name());
				}
				if (this.left != null) {
					logger.info("openai-lb: failing over from backend '{}' to '{}'", this.left.name(), chosen.name());
					this.balancer.listener().failedOver(this.left, this.leftBecause);
					this.left = null;
				}
				this.unreported = new Step.Attempt(chosen, this.attempts, System.nanoTime());
				return this.unreported;
			}
			set(this.refused, chosen.index());
		}
		long soonest = soonestFree(now);
		long maxWait = this.balancer.config().maxWait().toMillis();
		if (soonest != Long.MAX_VALUE && maxWait > 0 && soonest - now <= maxWait - this.waited) {
			long delay = Math.max(1, soonest - now);
			this.waited += delay;
			// a backend that asked for a pause may be tried again once the pause is over
			for (Backend backend : this.balancer.backends()) {
				if (backend.freeAt(now) > now) {
					clear(this.tried, backend.index());
				}
			}
			java.util.Arrays.fill(this.refused, 0);
			logger.debug("openai-lb: every backend is cooling down, waiting {} ms", delay);
			return new Step.Wait(Duration.ofMillis(delay));
		}
		return giveUp(now, soonest);
	}

	/**
	 * End the request now, because its time is up: the caller gets what it would get if no
	 * backend were left to try (the last real answer, the synthetic 429 or a failure).
	 * @return the end
	 */
	public Step.GiveUp giveUpNow() {
		long now = this.balancer.clock().millis();
		return giveUp(now, soonestFree(now));
	}

	/** When the soonest backend that is not free now will be, or {@link Long#MAX_VALUE}. */
	private long soonestFree(long now) {
		long soonest = Long.MAX_VALUE;
		for (Backend backend : this.balancer.backends()) {
			long free = backend.config().enabled() ? backend.freeAt(now) : Long.MAX_VALUE;
			if (free > now) {
				soonest = Math.min(soonest, free);
			}
		}
		return soonest;
	}

	/** Choose among backends with quota left; only if none has any, among the others. */
	private Backend choose(long now) {
		this.quotaSkipped = false;
		Backend chosen = choose(now, true);
		return (chosen != null || !this.quotaSkipped) ? chosen : choose(now, false);
	}

	private Backend choose(long now, boolean respectQuota) {
		Backend[] candidates = this.balancer.byPriority();
		Strategy strategy = this.balancer.config().strategy();
		int tier = Integer.MAX_VALUE;
		long total = 0;
		for (Backend backend : candidates) {
			int priority = backend.config().priority();
			if (priority > tier) {
				break;
			}
			if (eligible(backend, now, respectQuota)) {
				tier = priority;
				total += backend.effectiveWeight(strategy, now);
			}
		}
		if (total == 0) {
			return null;
		}
		long pick = this.balancer.nextLong(total);
		Backend last = null;
		for (Backend backend : candidates) {
			if (backend.config().priority() == tier && eligible(backend, now, respectQuota)) {
				last = backend;
				pick -= backend.effectiveWeight(strategy, now);
				if (pick < 0) {
					return backend;
				}
			}
		}
		return last;
	}

	private boolean eligible(Backend backend, long now, boolean respectQuota) {
		if (isSet(this.tried, backend.index()) || isSet(this.refused, backend.index()) || !backend.selectable(now)) {
			return false;
		}
		if (respectQuota && !backend.quotaAllows(now, this.estimatedTokens, this.balancer.config().strategy())) {
			this.quotaSkipped = true;
			return false;
		}
		return true;
	}

	private Step.GiveUp giveUp(long now, long soonest) {
		Step.Ending ending;
		long retryAfter = 0;
		if (this.lastStatus != 0 && this.lastStatus != 429) {
			ending = Step.Ending.LAST_ANSWER;
		}
		else if (soonest != Long.MAX_VALUE || this.lastStatus == 429 || anySet(this.refused)) {
			ending = Step.Ending.THROTTLED;
			long millis = (soonest != Long.MAX_VALUE) ? soonest - now : 0;
			retryAfter = Math.max(1, (millis + 999) / 1000);
		}
		else {
			ending = Step.Ending.FAILED;
		}
		String reason = (this.history != null) ? this.history.toString()
				: (this.attempts == 0) ? "no backend is available (" + states() + ")" : "no answer";
		if (ending == Step.Ending.THROTTLED) {
			logger.info("openai-lb: no backend can take the request ({}); answering 429, retry after {}s", reason,
					retryAfter);
		}
		else {
			logger.info("openai-lb: every backend failed ({}); the request fails", reason);
		}
		end(ending);
		return new Step.GiveUp(ending, retryAfter, reason);
	}

	/**
	 * Report the status an attempt answered with. For an outcome that fails over, pass the
	 * (small) error body so Azure's "retry after N seconds" phrase can be read.
	 * @param attempt the attempt
	 * @param status the HTTP status
	 * @param headers header lookup by lower-case name
	 * @param body the error body when the outcome fails over, else {@code null}
	 * @return the outcome; when it {@link Outcome#failsOver() fails over}, call {@link #next()}
	 */
	public Outcome answered(Step.Attempt attempt, int status, Function<String, String> headers, String body) {
		reported(attempt);
		Backend backend = attempt.backend();
		long nanos = System.nanoTime() - attempt.startNanos();
		Outcome outcome = Outcome.ofStatus(status);
		backend.count(outcome);
		this.lastStatus = status;
		Headroom headroom = Headroom.read(headers, this.balancer.clock().millis());
		if (headroom != null) {
			backend.report(headroom);
		}
		switch (outcome) {
			case SUCCESS -> {
				backend.breaker().onSuccess(nanos, TimeUnit.NANOSECONDS);
				if (backend.clearImpairment(this.balancer.clock().millis())) {
					logger.info("openai-lb: backend '{}' answers again", backend.name());
				}
			}
			case THROTTLED -> {
				long now = this.balancer.clock().millis();
				Duration hint = CoolDownHints.forThrottled(headers, body, now);
				coolDown(backend, (hint != null) ? hint : this.balancer.config().defaultRetryAfter(), now,
						"answered 429");
			}
			case FAILURE -> {
				backend.recordFailure(nanos, new BackendFailureException(status));
				long now = this.balancer.clock().millis();
				Duration hint = CoolDownHints.explicit(headers, now);
				if (hint != null) {
					coolDown(backend, hint, now, "answered " + status + " with a retry hint");
				}
			}
			case MISCONFIGURED -> {
				backend.breaker().releasePermission();
				backend.markMisconfigured("answered " + status);
				this.balancer.sharedState().misconfigured(backend.name(), "answered " + status);
			}
			case CLIENT_ERROR -> backend.breaker().releasePermission();
		}
		this.balancer.listener().attemptEnded(backend, outcome, nanos);
		if (outcome.failsOver()) {
			noteFailure(backend, "HTTP " + status, outcome);
		}
		else {
			end(Step.Ending.ANSWERED);
		}
		return outcome;
	}

	/**
	 * Report that an attempt got no answer: connect error, reset, timeout. The request fails
	 * over.
	 * @param attempt the attempt
	 * @param error what went wrong
	 */
	public void failed(Step.Attempt attempt, Throwable error) {
		reported(attempt);
		Backend backend = attempt.backend();
		long nanos = System.nanoTime() - attempt.startNanos();
		backend.count(Outcome.FAILURE);
		backend.recordFailure(nanos, error);
		this.balancer.listener().attemptEnded(backend, Outcome.FAILURE, nanos);
		noteFailure(backend, describe(error), Outcome.FAILURE);
	}

	/**
	 * Report that the backend's credential could not be obtained: the request fails over like
	 * after a 401 and the backend shows as misconfigured.
	 * @param attempt the attempt
	 * @param reason why, without secrets
	 */
	public void credentialFailed(Step.Attempt attempt, String reason) {
		reported(attempt);
		Backend backend = attempt.backend();
		backend.count(Outcome.MISCONFIGURED);
		backend.breaker().releasePermission();
		backend.markMisconfigured(reason);
		this.balancer.listener().attemptEnded(backend, Outcome.MISCONFIGURED, System.nanoTime() - attempt.startNanos());
		noteFailure(backend, reason, Outcome.MISCONFIGURED);
	}

	/**
	 * Report that a response which had started streaming broke. It is not replayed; the
	 * backend records a failure.
	 * @param attempt the attempt
	 * @param error what went wrong
	 */
	public void streamBroke(Step.Attempt attempt, Throwable error) {
		Backend backend = attempt.backend();
		backend.recordFailure(System.nanoTime() - attempt.startNanos(), error);
		logger.info("openai-lb: stream from backend '{}' broke after it started: {}", backend.name(), describe(error));
	}

	/**
	 * Report that the caller cancelled while an attempt was under way. The backend is not
	 * blamed. Safe to call more than once, and after the attempt was reported: its breaker
	 * permission is given back only while it is still unreported.
	 * @param attempt the attempt, or {@code null} if none was under way
	 */
	public void abandoned(Step.Attempt attempt) {
		if (attempt != null && attempt == this.unreported) {
			this.unreported = null;
			attempt.backend().breaker().releasePermission();
		}
		end(Step.Ending.CANCELLED);
	}

	/** Name every backend with its state, so an error without any attempt still says why. */
	private String states() {
		return this.balancer.backends()
			.stream()
			.map((backend) -> backend.name() + ": " + backend.state())
			.collect(java.util.stream.Collectors.joining(", "));
	}

	/**
	 * Return how many attempts this request made so far.
	 * @return the attempts
	 */
	public int attempts() {
		return this.attempts;
	}

	/**
	 * Return when this request began, in the balancer clock's epoch milliseconds.
	 * @return the start time
	 */
	public long started() {
		return this.started;
	}

	private void reported(Step.Attempt attempt) {
		if (attempt == this.unreported) {
			this.unreported = null;
		}
	}

	private void coolDown(Backend backend, Duration hint, long now, String why) {
		Duration capped = (hint.compareTo(this.balancer.config().maxCoolDown()) > 0)
				? this.balancer.config().maxCoolDown() : hint;
		backend.coolDown(now + capped.toMillis());
		this.balancer.sharedState().coolingDown(backend.name(), now + capped.toMillis(), why);
		logger.info("openai-lb: backend '{}' {}; cooling down for {} ms", backend.name(), why, capped.toMillis());
		this.balancer.listener().coolDownStarted(backend, capped);
	}

	private void noteFailure(Backend backend, String what, Outcome outcome) {
		if (this.history == null) {
			this.history = new StringBuilder();
		}
		else {
			this.history.append(", ");
		}
		this.history.append(backend.name()).append(": ").append(what);
		this.left = backend;
		this.leftBecause = outcome;
		logger.info("openai-lb: backend '{}' gave {} on attempt {}", backend.name(), what, this.attempts);
	}

	private void end(Step.Ending ending) {
		if (!this.ended) {
			this.ended = true;
			this.balancer.listener().requestEnded(this.attempts, ending);
		}
	}

	private static String describe(Throwable error) {
		Throwable cause = error;
		while (cause.getCause() != null && cause.getCause() != cause && cause.getMessage() == null) {
			cause = cause.getCause();
		}
		String message = cause.getMessage();
		String name = cause.getClass().getSimpleName();
		if (message == null || message.isBlank()) {
			return name;
		}
		// exception messages may quote URLs: drop their query strings, where credentials could hide
		return name + " (" + QUERY.matcher(message).replaceAll("") + ")";
	}

	private static boolean anySet(long[] bits) {
		for (long word : bits) {
			if (word != 0) {
				return true;
			}
		}
		return false;
	}

	private static void set(long[] bits, int index) {
		bits[index >>> 6] |= 1L << index;
	}

	private static void clear(long[] bits, int index) {
		bits[index >>> 6] &= ~(1L << index);
	}

	private static boolean isSet(long[] bits, int index) {
		return (bits[index >>> 6] & (1L << index)) != 0;
	}

}
