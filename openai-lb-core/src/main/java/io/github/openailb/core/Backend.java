package io.github.openailb.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.IllegalStateTransitionException;

/**
 * One backend with its live state, shared by every request and every client adapter. Lock-free:
 * a deadline is only changed by compare-and-set, so that the rules hold whatever the
 * interleaving. A local hint moves the cool-down (a fresh hint from the backend is the truth,
 * shorter or longer); news from another instance only ever extends it; a success clears only
 * the very cool-down it saw ended, never one that started meanwhile.
 */
public final class Backend {

	private static final VarHandle DISABLED_BY_OPERATOR;

	static {
		try {
			DISABLED_BY_OPERATOR = MethodHandles.lookup().findVarHandle(Backend.class, "disabledByOperator", boolean.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final BackendConfig config;

	/** The configuration's {@code enabled}, kept here so that judging a backend reads one object less. */
	private final boolean enabled;

	private final int index;

	private final CircuitBreaker breaker;

	private final Clock clock;

	/** End of the cool-down, epoch milliseconds; 0 when none ever ran or the last one was cleared. */
	private final Deadline coolDownUntil = new Deadline();

	/** When the breaker opened on its own (failure rate), the time it will let a probe through. */
	private final Deadline breakerOpenUntil = new Deadline();

	/** Set when the breaker opened on its own, until it closes again: its recovery is logged once. */
	private final AtomicBoolean tripped = new AtomicBoolean();

	private final AtomicReference<String> misconfiguration = new AtomicReference<>();

	/**
	 * Set while an operator has taken the backend out at runtime, whatever its configuration says.
	 * A field of its own rather than an {@code AtomicBoolean}: every choice reads it for every backend.
	 */
	private volatile boolean disabledByOperator;

	private volatile Headroom headroom;

	/** Client-side budget, {@code null} when none is configured. */
	private final LocalBudget budget;

	private final LongAdder attempts = new LongAdder();

	private final LongAdder successes = new LongAdder();

	private final LongAdder throttled = new LongAdder();

	private final LongAdder failures = new LongAdder();

	private final LongAdder misconfigured = new LongAdder();

	private final LongAdder clientErrors = new LongAdder();

	/**
	 * The state of each model the balancer knows (indexed as {@link LoadBalancer#models()}) on this
	 * backend; {@code null} where the backend does not list the model (with a deployment map) or
	 * keeps one state for every request (one {@code deployment} for all).
	 */
	private final Deployment[] slots;

	/** The slots that exist, in configuration order, for health and metrics. */
	private final List<Deployment> deployments;

	/** The URI of the latest attempt sent here, see {@link RequestTarget#uri(Step.Attempt, String)}. */
	volatile LastUri lastUri;

	Backend(BackendConfig config, int index, CircuitBreaker breaker, Clock clock, List<String> models) {
		this.config = config;
		this.enabled = config.enabled();
		this.index = index;
		this.breaker = breaker;
		this.clock = clock;
		this.budget = (config.rpm() > 0 || config.tpm() > 0) ? new LocalBudget(config.rpm(), config.tpm()) : null;
		this.slots = new Deployment[models.size()];
		List<Deployment> listed = new ArrayList<>();
		DeploymentConfig[] among = config.deploymentsAmong(models);
		for (int i = 0; i < this.slots.length; i++) {
			DeploymentConfig deployment = among[i];
			if (deployment != null) {
				this.slots[i] = new Deployment(this, deployment, clock);
				listed.add(this.slots[i]);
			}
		}
		this.deployments = List.copyOf(listed);
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
	 * Return the state this backend keeps per model: each model its deployment map lists, or,
	 * without a map (and without one {@code deployment} for every request), each model any other
	 * backend lists, served here under the same name.
	 * @return the deployments, in configuration order
	 */
	public List<Deployment> deployments() {
		return this.deployments;
	}

	/**
	 * Return the state of one model on this backend.
	 * @param model the model name the application sends
	 * @return the deployment, or {@code null} if this backend keeps none for that model
	 */
	public Deployment deployment(String model) {
		for (Deployment deployment : this.deployments) {
			if (deployment.model().equals(model)) {
				return deployment;
			}
		}
		return null;
	}

	/** The state of a known model here, or {@code null}: not listed, or one state for every request. */
	Deployment slot(int model) {
		return (model >= 0) ? this.slots[model] : null;
	}

	/**
	 * Whether this backend may take a request for a model: a backend with a deployment map takes
	 * only the models it lists (and requests that name no model); any other takes everything.
	 */
	boolean serves(int model, boolean named) {
		return !named || this.config.deployments().isEmpty() || (model >= 0 && this.slots[model] != null);
	}

	/**
	 * Return what this backend can do now.
	 * @return the state
	 */
	public BackendState state() {
		if (isDisabled()) {
			return BackendState.DISABLED;
		}
		if (this.coolDownUntil.get() > this.clock.millis()) {
			return BackendState.COOLING_DOWN;
		}
		CircuitBreaker.State breakerState = this.breaker.getState();
		if (breakerState == CircuitBreaker.State.OPEN || breakerState == CircuitBreaker.State.FORCED_OPEN) {
			return BackendState.CIRCUIT_OPEN;
		}
		if (breakerState == CircuitBreaker.State.HALF_OPEN) {
			return BackendState.HALF_OPEN;
		}
		return (this.misconfiguration.get() != null) ? BackendState.MISCONFIGURED : BackendState.AVAILABLE;
	}

	/**
	 * Return the end of the current cool-down, if one is running.
	 * @return the end of the cool-down, or {@code null}
	 */
	public Instant coolingDownUntil() {
		return this.coolDownUntil.ahead(this.clock.millis());
	}

	/**
	 * Return when the open circuit breaker lets its next probe through, while that is ahead and
	 * known: after a failure-rate opening or a timeout, not after a cool-down (see
	 * {@link #coolingDownUntil()}) nor an opening forced from outside.
	 * @return the time of the next probe, or {@code null}
	 */
	public Instant circuitOpenUntil() {
		long until = this.breakerOpenUntil.get();
		return (until > this.clock.millis() && this.breaker.getState() == CircuitBreaker.State.OPEN)
				? Instant.ofEpochMilli(until) : null;
	}

	/**
	 * Whether a request may be sent to this backend now (its breaker still decides a half-open
	 * probe).
	 * @return {@code true} when selectable now
	 */
	public boolean takesTrafficNow() {
		return selectable(this.clock.millis());
	}

	/**
	 * Whether this backend can answer now or after a wait it announced: it is enabled (by
	 * configuration and by operators), not marked
	 * misconfigured, and its breaker is not forced open. A throttled backend, one left alone after a
	 * timeout and one whose open breaker waits for its probe all can.
	 * @return {@code false} when only a change of configuration or a success could bring it back
	 */
	public boolean canAnswer() {
		return !isDisabled() && this.misconfiguration.get() == null
				&& this.breaker.getState() != CircuitBreaker.State.FORCED_OPEN;
	}

	/**
	 * Return why the backend is marked misconfigured, without secrets.
	 * @return the reason, or {@code null}
	 */
	public String misconfiguration() {
		return this.misconfiguration.get();
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
	boolean quotaAllows(long now, long estimatedTokens, Strategy strategy, Deployment slot) {
		if (this.budget != null && !this.budget.allows(now, estimatedTokens)) {
			return false;
		}
		if (slot != null && !slot.budgetAllows(now, estimatedTokens)) {
			return false;
		}
		if (strategy != Strategy.HEADROOM) {
			return true;
		}
		Headroom last = (slot != null) ? slot.headroom() : this.headroom;
		return last == null || !last.isFresh(now) || !last.cannotTake(estimatedTokens);
	}

	void consumeBudget(long now, long estimatedTokens, Deployment slot) {
		if (this.budget != null) {
			this.budget.consume(now, estimatedTokens);
		}
		if (slot != null) {
			slot.consumeBudget(now, estimatedTokens);
		}
	}

	/**
	 * The weight used to choose within a tier; scaled so headroom (the deployment's, when the
	 * request has one here) can lower it smoothly.
	 */
	long effectiveWeight(Strategy strategy, long now, Deployment slot) {
		long weight = this.config.weight();
		return (strategy != Strategy.HEADROOM) ? weight : headroomWeight(weight * 1000, now, slot);
	}

	/** The weight under {@link Strategy#HEADROOM}, from the full one (the configured weight × 1000). */
	long headroomWeight(long full, long now, Deployment slot) {
		Headroom last = (slot != null) ? slot.headroom() : this.headroom;
		double share = (last != null && last.isFresh(now)) ? last.share() : -1;
		return (share < 0) ? full : Math.max(1, Math.round(full * share));
	}

	/**
	 * Ask the breaker for a call. An open breaker whose wait is over half-opens inside this call; if
	 * another thread closed it meanwhile (a success, a reset), Resilience4j refuses that transition
	 * with an exception: the backend is then simply not taken this time, and the request looks again.
	 */
	boolean tryAcquirePermission() {
		try {
			return this.breaker.tryAcquirePermission();
		}
		catch (IllegalStateTransitionException ex) {
			return false;
		}
	}

	/** Whether a request may pick this backend now; the breaker still has the last word. */
	boolean selectable(long now) {
		if (isDisabled() || this.coolDownUntil.get() > now) {
			return false;
		}
		CircuitBreaker.State state = this.breaker.getState();
		if (state == CircuitBreaker.State.FORCED_OPEN) {
			return false;
		}
		// an open breaker turns half-open lazily, on the permission request after its wait
		return state != CircuitBreaker.State.OPEN || this.breakerOpenUntil.get() <= now;
	}

	/** Whether a request for this slot (or for the whole backend, {@code null}) may pick it now. */
	boolean selectable(long now, Deployment slot) {
		return selectable(now) && (slot == null || !slot.coolingDown(now));
	}

	/** The earliest time this backend may take traffic again, or {@code now} if it may now. */
	long freeAt(long now) {
		long free = Math.max(now, this.coolDownUntil.get());
		CircuitBreaker.State state = this.breaker.getState();
		if (state == CircuitBreaker.State.OPEN) {
			free = Math.max(free, this.breakerOpenUntil.get());
		}
		return free;
	}

	/** As {@link #freeAt(long)}, also waiting for the slot's cool-down when there is one. */
	long freeAt(long now, Deployment slot) {
		long free = freeAt(now);
		return (slot != null) ? Math.max(free, slot.coolDownDeadline()) : free;
	}

	/**
	 * Start (or move) a cool-down on a hint of the backend's own: the latest hint wins, shorter
	 * or longer. Returns whether this started one (rather than moved a running one).
	 */
	boolean coolDown(long until) {
		long previous = this.coolDownUntil.getAndSet(until);
		openBreakerUntilDeadline();
		return previous <= this.clock.millis();
	}

	/**
	 * Extend the cool-down to {@code until} if that is later (news from another instance never
	 * shortens a cool-down); returns whether it did.
	 */
	boolean extendCoolDown(long until) {
		if (!this.coolDownUntil.extendTo(until)) {
			return false;
		}
		openBreakerUntilDeadline();
		return true;
	}

	/**
	 * Keep the breaker open exactly until the cool-down's deadline. Two writers may race, so
	 * each repeats until the deadline it applied is still the current one: the last to apply
	 * one applies the latest. The breaker half-opens only once its clock is strictly after its
	 * deadline, so it is given one nanosecond less: at the deadline both agree the backend may
	 * be probed. A deadline still ahead that is cleared meanwhile was ended by an operator's
	 * reset, which must not be undone by this late opening: the breaker is closed again.
	 */
	private void openBreakerUntilDeadline() {
		long applied = 0;
		while (true) {
			long until = this.coolDownUntil.get();
			if (until == 0) {
				// cleared meanwhile: by a success (a deadline already past), or by a reset
				if (applied <= this.clock.millis()) {
					return;
				}
				closeOpenBreaker();
				applied = 0;
				if (this.coolDownUntil.get() == 0) {
					return;
				}
				continue;
			}
			this.breaker.transitionToOpenStateUntil(Instant.ofEpochMilli(until).minusNanos(1));
			applied = until;
			if (this.coolDownUntil.get() == until) {
				return;
			}
		}
	}

	/** Close an open or half-open breaker; a forced-open one is the application's decision. */
	private void closeOpenBreaker() {
		CircuitBreaker.State state = this.breaker.getState();
		if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.HALF_OPEN) {
			this.breaker.transitionToClosedState();
		}
	}

	/**
	 * Hold the breaker open until {@code until} (a timeout here, or news of one from another
	 * instance): a later time extends a running opening, an earlier one changes nothing. Returns
	 * whether it moved the time of the next probe. Like {@link #openBreakerUntilDeadline()}, each
	 * writer repeats until the time it applied is still the latest, and the breaker never half-opens
	 * before a running cool-down ends.
	 */
	boolean openBreakerUntil(long until) {
		if (!this.breakerOpenUntil.extendTo(until)) {
			return false;
		}
		// its recovery is logged once, as after a failure-rate opening
		this.tripped.set(true);
		long applied;
		do {
			applied = this.breakerOpenUntil.get();
			long deadline = Math.max(applied, this.coolDownUntil.get());
			this.breaker.transitionToOpenStateUntil(Instant.ofEpochMilli(deadline).minusNanos(1));
		}
		while (this.breakerOpenUntil.get() != applied);
		return true;
	}

	/**
	 * Clear the marks of past trouble after a success; returns whether there were any. Only
	 * the marks seen are cleared: a cool-down or mark set meanwhile came from a newer answer
	 * than this success, and a cool-down still running likewise. Reads before writing, so a
	 * success on a healthy backend costs no write to this shared state.
	 */
	boolean clearImpairment(long now) {
		boolean impaired = false;
		String reason = this.misconfiguration.get();
		if (reason != null && this.misconfiguration.compareAndSet(reason, null)) {
			impaired = true;
		}
		return this.coolDownUntil.clearIfPast(now) || impaired;
	}

	/**
	 * Record a failure in the breaker. A breaker only opens inside such a call, so this is where
	 * the end of a failure-rate opening is noted (rather than through a breaker event listener,
	 * which would make the breaker allocate an event on every successful call). Returns the
	 * time of the next probe when this failure opened the breaker, else 0.
	 */
	long recordFailure(long nanos, Throwable error) {
		this.breaker.onError(nanos, TimeUnit.NANOSECONDS, error);
		long now = this.clock.millis();
		long openUntil = this.breakerOpenUntil.get();
		if (this.breaker.getState() == CircuitBreaker.State.OPEN && this.coolDownUntil.get() <= now
				&& openUntil <= now) {
			long wait = this.breaker.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1);
			// the breaker lets a probe through only strictly after its deadline: the next millisecond;
			// of two failures noting the same opening, one write is enough
			if (this.breakerOpenUntil.compareAndSet(openUntil, now + wait + 1)) {
				this.tripped.set(true);
				return now + wait + 1;
			}
		}
		return 0;
	}

	/**
	 * Whether the breaker, opened on its own earlier, is closed again; true once per opening.
	 * Costs one read while the breaker never opened.
	 */
	boolean closedAfterTrip() {
		return this.tripped.get() && this.breaker.getState() == CircuitBreaker.State.CLOSED
				&& this.tripped.compareAndSet(true, false);
	}

	/**
	 * Whether the breaker keeps this backend out for a reason other than a cool-down: open after
	 * failures, forced open, or probing after such an opening.
	 */
	boolean blockedByBreaker(long now) {
		long coolDown = this.coolDownUntil.get();
		if (coolDown > now) {
			return false;
		}
		CircuitBreaker.State state = this.breaker.getState();
		if (state == CircuitBreaker.State.HALF_OPEN) {
			// probing after a cool-down that no success has cleared yet is the tail of throttling
			return coolDown == 0;
		}
		return state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN;
	}

	/**
	 * Whether the backend takes no traffic at all: disabled in configuration or by an operator.
	 * @return {@code true} when disabled either way
	 */
	public boolean isDisabled() {
		return !this.enabled || this.disabledByOperator;
	}

	/**
	 * Whether an operator has taken the backend out at runtime (see {@link LoadBalancer#disable}).
	 * @return {@code true} while disabled by an operator
	 */
	public boolean isDisabledByOperator() {
		return this.disabledByOperator;
	}

	/** Set or lift the operator's disable; returns whether that changed anything. */
	boolean disableByOperator(boolean disabled) {
		return DISABLED_BY_OPERATOR.compareAndSet(this, !disabled, disabled);
	}

	/**
	 * Forget past trouble on an operator's request: end the cool-down, close an open or
	 * half-open breaker (a forced-open one is the application's decision and stays), drop the
	 * misconfiguration mark and the last quota report, its deployments' too. Each is cleared only as seen: a hint or
	 * mark that lands while the reset runs comes from a newer answer and wins, breaker included.
	 */
	void reset() {
		this.coolDownUntil.clearAsSeen();
		this.breakerOpenUntil.clearAsSeen();
		closeOpenBreaker();
		String reason = this.misconfiguration.get();
		if (reason != null) {
			this.misconfiguration.compareAndSet(reason, null);
		}
		this.headroom = null;
		for (Deployment deployment : this.deployments) {
			deployment.reset();
		}
		if (this.coolDownUntil.get() != 0) {
			// a hint landed meanwhile: its breaker must stay open until its deadline
			openBreakerUntilDeadline();
		}
	}

	long coolDownDeadline() {
		return this.coolDownUntil.get();
	}

	/** Returns whether the backend was not marked before. */
	boolean markMisconfigured(String reason) {
		return this.misconfiguration.getAndSet(reason) == null;
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

	/** An attempt's URI with what it was built from: the caller's path and the deployment sent. */
	record LastUri(String pathAndQuery, String deployment, java.net.URI uri) {
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
