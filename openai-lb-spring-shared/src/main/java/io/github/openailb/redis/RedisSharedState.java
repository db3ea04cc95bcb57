package io.github.openailb.redis;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.openailb.core.SharedState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.task.SyncTaskExecutor;
import org.springframework.data.redis.connection.Message;
import org.springframework.data.redis.connection.MessageListener;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.SubscriptionListener;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

/**
 * {@link SharedState} on Redis: each cool-down, timeout (breaker held open) and misconfiguration
 * mark is written under {@code <namespace>:cooldown:<backend>},
 * {@code <namespace>:circuit-open:<backend>} or {@code <namespace>:misconfigured:<backend>} with a
 * TTL equal to its remaining life, and announced on the channel {@code <namespace>:events}.
 * Every instance subscribes to that channel and, whenever its subscription is (re-)established,
 * reads its own backends' keys once so that an instance that joins late, or that lost Redis for
 * a while, learns the cool-downs still running.
 * <p>
 * With deployment maps, what Azure keeps per deployment is kept per (backend, model) pair: a
 * deployment's cool-down under {@code <namespace>:cooldown:<backend>:<model>} and its "not served
 * here" mark (a 404) under {@code <namespace>:misconfigured:<backend>:<model>} (backend names
 * hold no {@code ':'}, so the first one after the backend ends it; a model may hold more),
 * announced like a backend's with {@code <backend>:<model>} where the backend name goes. The
 * read-through reads the pairs of the models this instance keeps per backend, nothing else.
 * <p>
 * An operator's runtime disable is written under {@code <namespace>:disabled:<backend>} for
 * {@link #DISABLED_FOR} (this store writes nothing without a TTL: an instance starting later
 * learns the disable for that long, running instances keep it until it is lifted) and deleted
 * by an enable; a reset deletes the backend's cool-down, circuit-open and misconfiguration keys, and those of
 * its deployments. Each is
 * announced on the channel. An enable missed while Redis was away is not caught up by the
 * read-through (a missing key says nothing): issue it again.
 * <p>
 * Times cross Redis as remaining durations (the announcement's milliseconds left, the key's
 * TTL as Redis counts it), never as another instance's clock reading: replicas whose clocks
 * disagree still agree on how long a backend rests. Nothing read from Redis is trusted beyond
 * bounds: an announcement over {@value #MAX_MESSAGE_BYTES} bytes, a time that is not a positive
 * number, and a key without a TTL (which this store never writes; it is deleted, with one WARN)
 * are ignored; values are read up to {@value #MAX_VALUE_BYTES} bytes; the engine then caps
 * cool-downs at {@code max-cool-down}, ignores backends it does not have and cuts reasons short.
 * <p>
 * Nothing here runs on the request path: the engine publishes only when a cool-down starts, and
 * publishing is asynchronous with a bounded timeout. When Redis is down or slow the engine keeps
 * its local state; the first failure is logged at WARN, recovery at INFO, and
 * {@link #isConnected()} tells health checks about it. Lettuce reconnects by itself and
 * re-subscribes; the read-through after that re-subscription catches up on missed news.
 * <p>
 * Requires a Lettuce connection factory (reactive and blocking).
 */
public class RedisSharedState implements SharedState, SmartLifecycle, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(RedisSharedState.class);

	private static final String COOL_DOWN = "cooldown";

	private static final String MISCONFIGURED = "misconfigured";

	/** A backend left alone after a timeout: its breaker is held open until a time. */
	private static final String CIRCUIT_OPEN = "circuit-open";

	private static final String DISABLED = "disabled";

	private static final String ENABLED = "enabled";

	private static final String RESET = "reset";

	/**
	 * How long an operator's disable stays in Redis for instances that start later: a week,
	 * since every key this store writes expires; re-issue the disable to keep it longer.
	 */
	public static final Duration DISABLED_FOR = Duration.ofDays(7);

	/** Longest announcement read: instance id, kind, backend name, a number and a short reason. */
	static final int MAX_MESSAGE_BYTES = 1024;

	/** Longest part of a stored value read. */
	static final int MAX_VALUE_BYTES = 512;

	/** Deletes a key only if it still has no TTL, so a key rewritten properly meanwhile stays. */
	private static final RedisScript<Long> DELETE_IF_PERSISTENT = RedisScript
		.of("if redis.call('pttl', KEYS[1]) == -1 then return redis.call('del', KEYS[1]) end return 0", Long.class);

	private final RedisConnectionFactory connectionFactory;

	private final ReactiveStringRedisTemplate redis;

	private final String namespace;

	private final Duration timeout;

	private final Duration misconfiguredFor;

	private final Clock clock;

	/** Tells this instance's own messages apart: they are idempotent, skipping them saves work. */
	private final String instance = UUID.randomUUID().toString();

	private final AtomicBoolean connected = new AtomicBoolean(true);

	/** Keys without a TTL are reported once per instance, not once per read-through. */
	private final AtomicBoolean persistentKeyReported = new AtomicBoolean();

	private volatile String lastError;

	private volatile boolean closed;

	/**
	 * Sends off the caller's thread: even handing a command to Lettuce costs the caller
	 * hundreds of microseconds at times, while an enqueue costs about one. Bounded: news that
	 * cannot be sent in time is dropped, the local state has it anyway.
	 */
	private final ThreadPoolExecutor sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
			new ArrayBlockingQueue<>(1024), (task) -> {
				Thread thread = new Thread(task, "openai-lb-redis-state");
				thread.setDaemon(true);
				return thread;
			}, new ThreadPoolExecutor.DiscardPolicy());

	private volatile RedisMessageListenerContainer container;

	/** The engine's, once started: it names the models whose pair keys a reset deletes. */
	private volatile Listener listener;

	/**
	 * Create a store; nothing talks to Redis before {@link #start}.
	 * @param connectionFactory a Lettuce connection factory, reactive as well as blocking
	 * @param namespace prefix of keys and channel; instances share state only within one
	 * @param timeout longest wait for any Redis command
	 * @param misconfiguredFor how long a misconfiguration mark stays in Redis for late joiners;
	 * positive, as every value is written with a TTL
	 * @param clock the clock cool-down deadlines are read against, the balancer's
	 */
	public RedisSharedState(RedisConnectionFactory connectionFactory, String namespace, Duration timeout,
			Duration misconfiguredFor, Clock clock) {
		if (!(connectionFactory instanceof ReactiveRedisConnectionFactory reactive)) {
			throw new IllegalArgumentException(
					"openai.lb.state.store=redis needs a Lettuce connection factory (reactive), not "
							+ connectionFactory.getClass().getName());
		}
		this.connectionFactory = connectionFactory;
		this.redis = new ReactiveStringRedisTemplate(reactive);
		this.namespace = Objects.requireNonNull(namespace, "namespace");
		this.timeout = Objects.requireNonNull(timeout, "timeout");
		this.misconfiguredFor = Objects.requireNonNull(misconfiguredFor, "misconfiguredFor");
		if (misconfiguredFor.toMillis() <= 0) {
			throw new IllegalArgumentException("misconfiguredFor must be at least 1ms, not " + misconfiguredFor);
		}
		this.clock = Objects.requireNonNull(clock, "clock");
	}

	@Override
	public void start(Listener listener) {
		this.listener = listener;
		RedisMessageListenerContainer container = new RedisMessageListenerContainer();
		container.setConnectionFactory(this.connectionFactory);
		// messages are applied in microseconds: no thread per message
		container.setTaskExecutor(new SyncTaskExecutor());
		// never hold up application start-up for long when Redis is away
		container.setMaxSubscriptionRegistrationWaitingTime(this.timeout.toMillis());
		container.setErrorHandler((ex) -> failed("subscription", ex));
		container.addMessageListener(new Subscriber(listener), new ChannelTopic(channel()));
		container.afterPropertiesSet();
		this.container = container;
		try {
			container.start();
		}
		catch (RuntimeException ex) {
			// the container keeps retrying on its own
			failed("subscribe", ex);
		}
	}

	@Override
	public void coolingDown(String backend, long until, String reason) {
		sendUntil(COOL_DOWN, backend, until, reason);
	}

	@Override
	public void circuitOpen(String backend, long until, String reason) {
		sendUntil(CIRCUIT_OPEN, backend, until, reason);
	}

	@Override
	public void coolingDown(String backend, String model, long until, String reason) {
		sendUntil(COOL_DOWN, pair(backend, model), until, reason);
	}

	/** Announce and store a deadline of a backend, or of a pair ({@link #pair}). */
	private void sendUntil(String kind, String target, long until, String reason) {
		long remaining = until - this.clock.millis();
		if (remaining <= 0) {
			return;
		}
		String text = shortLine(reason);
		String message = String.join("\n", this.instance, kind, target, Long.toString(remaining), text);
		send(key(kind, target), text, Duration.ofMillis(remaining), message);
	}

	@Override
	public void misconfigured(String backend, String reason) {
		sendMisconfigured(backend, reason);
	}

	@Override
	public void misconfigured(String backend, String model, String reason) {
		sendMisconfigured(pair(backend, model), reason);
	}

	private void sendMisconfigured(String target, String reason) {
		String text = shortLine(reason);
		String message = String.join("\n", this.instance, MISCONFIGURED, target, "0", text);
		send(key(MISCONFIGURED, target), text, this.misconfiguredFor, message);
	}

	@Override
	public void disabledByOperator(String backend, boolean disabled) {
		if (disabled) {
			String message = String.join("\n", this.instance, DISABLED, backend, "0", "operator");
			send(key(DISABLED, backend), "operator", DISABLED_FOR, message);
		}
		else {
			delete(List.of(key(DISABLED, backend)), String.join("\n", this.instance, ENABLED, backend, "0", "operator"));
		}
	}

	@Override
	public void reset(String backend) {
		List<String> keys = new ArrayList<>(List.of(key(COOL_DOWN, backend), key(CIRCUIT_OPEN, backend),
				key(MISCONFIGURED, backend)));
		Listener listener = this.listener;
		if (listener != null) {
			for (String model : listener.models(backend)) {
				keys.add(key(COOL_DOWN, pair(backend, model)));
				keys.add(key(MISCONFIGURED, pair(backend, model)));
			}
		}
		delete(keys, String.join("\n", this.instance, RESET, backend, "0", "operator"));
	}

	/**
	 * Return whether the last exchange with Redis succeeded.
	 * @return {@code false} while Redis is unreachable or too slow
	 */
	public boolean isConnected() {
		return this.connected.get();
	}

	/**
	 * Return the last failure talking to Redis, without secrets; {@code null} once it worked again.
	 * @return the last error or {@code null}
	 */
	public String lastError() {
		return this.lastError;
	}

	/**
	 * Return the namespace this store shares state in.
	 * @return the namespace
	 */
	public String namespace() {
		return this.namespace;
	}

	/**
	 * Ping Redis within the timeout and update {@link #isConnected()}; for health checks, never
	 * for requests.
	 * @return whether Redis answered
	 */
	public boolean check() {
		try {
			this.redis.execute((connection) -> connection.ping()).next().timeout(this.timeout).block();
			succeeded();
			return true;
		}
		catch (RuntimeException ex) {
			failed("ping", ex);
			return false;
		}
	}

	/**
	 * Nothing to do: sharing starts when the engine calls {@link #start(Listener)}.
	 */
	@Override
	public void start() {
	}

	/**
	 * Stop listening, before the connection factory (phase 0) closes the connections.
	 */
	@Override
	public void stop() {
		close();
	}

	@Override
	public boolean isRunning() {
		return !this.closed;
	}

	@Override
	public int getPhase() {
		return 1;
	}

	@Override
	public void destroy() {
		close();
	}

	private void close() {
		this.closed = true;
		this.sender.shutdown();
		RedisMessageListenerContainer container = this.container;
		this.container = null;
		if (container != null) {
			try {
				container.destroy();
			}
			catch (Exception ex) {
				logger.debug("openai-lb: closing the Redis subscription failed", ex);
			}
		}
	}

	private void send(String key, String value, Duration ttl, String message) {
		if (this.closed) {
			return;
		}
		this.sender.execute(() -> this.redis.opsForValue()
			.set(key, value, ttl)
			.then(this.redis.convertAndSend(channel(), message))
			.timeout(this.timeout)
			.subscribe((receivers) -> succeeded(), (ex) -> failed("publish", ex)));
	}

	/** Delete keys one by one (they may sit in different cluster slots), then announce. */
	private void delete(List<String> keys, String message) {
		if (this.closed) {
			return;
		}
		this.sender.execute(() -> Flux.fromIterable(keys)
			.concatMap((key) -> this.redis.delete(key))
			.then(this.redis.convertAndSend(channel(), message))
			.timeout(this.timeout)
			.subscribe((receivers) -> succeeded(), (ex) -> failed("publish", ex)));
	}

	/**
	 * Learn the cool-downs, marks and disables of this instance's backends that are still in Redis, once per
	 * (re-)subscription. Reads only the keys of backends configured here, so nothing else in the
	 * namespace, however large, is scanned.
	 */
	private void readThrough(Listener listener) {
		Flux.fromIterable(listener.backends())
			.flatMap((backend) -> Flux.concat(read(listener, COOL_DOWN, backend), read(listener, CIRCUIT_OPEN, backend),
					read(listener, MISCONFIGURED, backend), read(listener, DISABLED, backend),
					Flux.fromIterable(listener.models(backend))
						.concatMap((model) -> Flux.concat(read(listener, COOL_DOWN, pair(backend, model)),
								read(listener, MISCONFIGURED, pair(backend, model))))))
			.timeout(this.timeout.multipliedBy(4))
			.then(Mono.fromRunnable(this::succeeded))
			.subscribe(null, (ex) -> failed("read", ex));
	}

	/** Read one key, of a backend or a pair, with its TTL, as Redis counts it; a key without one is refused. */
	private Mono<Void> read(Listener listener, String kind, String target) {
		String key = key(kind, target);
		// Duration.ZERO: the key has no TTL; empty: there is no key
		return this.redis.getExpire(key)
			.flatMap((ttl) -> ttl.isZero() ? refuse(key)
					: this.redis.opsForValue()
						.get(key, 0, MAX_VALUE_BYTES - 1)
						.filter((value) -> !value.isEmpty())
						.doOnNext((value) -> apply(listener, kind, target, ttl.toMillis(), value))
						.then());
	}

	private void apply(Listener listener, String kind, String target, long remaining, String value) {
		if (COOL_DOWN.equals(kind) || CIRCUIT_OPEN.equals(kind)) {
			if (remaining > 0) {
				applyUntil(listener, kind, target, deadline(remaining));
			}
		}
		else if (MISCONFIGURED.equals(kind)) {
			applyMisconfigured(listener, target, value);
		}
		else if (DISABLED.equals(kind)) {
			listener.disabledByOperator(target, true);
		}
	}

	/** A target is a backend or a {@link #pair}; only cool-downs and 404 marks are kept per pair. */
	private static void applyUntil(Listener listener, String kind, String target, long until) {
		int colon = target.indexOf(':');
		if (colon >= 0) {
			if (COOL_DOWN.equals(kind)) {
				listener.coolingDown(target.substring(0, colon), target.substring(colon + 1), until);
			}
		}
		else if (COOL_DOWN.equals(kind)) {
			listener.coolingDown(target, until);
		}
		else {
			listener.circuitOpen(target, until);
		}
	}

	private static void applyMisconfigured(Listener listener, String target, String reason) {
		int colon = target.indexOf(':');
		if (colon >= 0) {
			listener.misconfigured(target.substring(0, colon), target.substring(colon + 1), reason);
		}
		else {
			listener.misconfigured(target, reason);
		}
	}

	/** Delete a key this store never writes (no TTL, so it would rest a backend forever) and say so once. */
	private Mono<Void> refuse(String key) {
		return this.redis.execute(DELETE_IF_PERSISTENT, List.of(key))
			.next()
			.doOnNext((deleted) -> {
				if (deleted > 0 && this.persistentKeyReported.compareAndSet(false, true)) {
					logger.warn("openai-lb: deleted Redis key '{}' without a TTL, which this store never writes; "
							+ "backend state from it is ignored (further such keys are deleted without a warning)", key);
				}
			})
			.onErrorResume((ex) -> {
				// e.g. scripts disabled on this server: the key is ignored all the same
				logger.debug("openai-lb: could not delete Redis key '{}' without a TTL", key, ex);
				return Mono.empty();
			})
			.then();
	}

	/** This instance's deadline for a remaining time, saturating: the engine caps it anyway. */
	private long deadline(long remaining) {
		long now = this.clock.millis();
		return (remaining > Long.MAX_VALUE - now) ? Long.MAX_VALUE : now + remaining;
	}

	private void succeeded() {
		if (this.connected.compareAndSet(false, true)) {
			logger.info("openai-lb: Redis state store '{}' is reachable again; sharing backend state",
					this.namespace);
		}
		this.lastError = null;
	}

	private void failed(String what, Throwable ex) {
		if (this.closed) {
			// commands cut short by the application's shutdown
			return;
		}
		String error = what + " failed: " + ex.getClass().getSimpleName();
		this.lastError = error;
		// once per outage, not per event: the engine carries on with its local state
		if (this.connected.compareAndSet(true, false)) {
			logger.warn("openai-lb: Redis state store '{}' is unavailable ({}); backend state stays local "
					+ "until it is back", this.namespace, error);
		}
	}

	private String key(String kind, String target) {
		return this.namespace + ":" + kind + ":" + target;
	}

	/** One model's deployment on a backend: backend names hold no ':', so the first one splits them. */
	private static String pair(String backend, String model) {
		return backend + ":" + model;
	}

	private String channel() {
		return this.namespace + ":events";
	}

	/** A positive decimal number of milliseconds, or -1 for anything else. */
	private static long millis(String text) {
		if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch((c) -> c >= '0' && c <= '9')) {
			return -1;
		}
		try {
			return Long.parseLong(text);
		}
		catch (NumberFormatException ex) {
			// more than Long.MAX_VALUE
			return -1;
		}
	}

	private static String shortLine(String reason) {
		String text = (reason != null) ? reason.replace('\n', ' ').replace('\r', ' ') : "";
		return (text.length() > MAX_REASON_LENGTH) ? text.substring(0, MAX_REASON_LENGTH) : text;
	}

	/**
	 * Applies other instances' announcements, and reads through on every (re-)subscription.
	 */
	private final class Subscriber implements MessageListener, SubscriptionListener {

		private final Listener listener;

		Subscriber(Listener listener) {
			this.listener = listener;
		}

		@Override
		public void onMessage(Message message, byte[] pattern) {
			byte[] body = message.getBody();
			if (body.length > MAX_MESSAGE_BYTES) {
				logger.debug("openai-lb: ignored an announcement of {} bytes on '{}'", body.length, channel());
				return;
			}
			String[] parts = new String(body, StandardCharsets.UTF_8).split("\n", 5);
			if (parts.length < 5 || RedisSharedState.this.instance.equals(parts[0])) {
				return;
			}
			if (COOL_DOWN.equals(parts[1]) || CIRCUIT_OPEN.equals(parts[1])) {
				long remaining = millis(parts[3]);
				if (remaining > 0) {
					applyUntil(this.listener, parts[1], parts[2], deadline(remaining));
				}
			}
			else if (MISCONFIGURED.equals(parts[1])) {
				applyMisconfigured(this.listener, parts[2], parts[4]);
			}
			else if (DISABLED.equals(parts[1]) || ENABLED.equals(parts[1])) {
				this.listener.disabledByOperator(parts[2], DISABLED.equals(parts[1]));
			}
			else if (RESET.equals(parts[1])) {
				this.listener.reset(parts[2]);
			}
		}

		@Override
		public void onChannelSubscribed(byte[] channel, long count) {
			readThrough(this.listener);
		}

	}

	/**
	 * What the health indicators report of this store: {@code store} ({@code redis}, or
	 * {@code degraded} while Redis is away), {@code namespace}, and the last {@code error} while
	 * degraded. The store is never reported DOWN: the balancer still works from its local state,
	 * so the application must not be restarted for it.
	 * @return the details, checked now
	 */
	public Map<String, Object> healthDetails() {
		boolean connected = check();
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("store", connected ? "redis" : "degraded");
		details.put("namespace", namespace());
		String error = lastError();
		if (!connected && error != null) {
			details.put("error", error);
		}
		return details;
	}

}
