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
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

/**
 * {@link SharedState} on Redis: each cool-down and misconfiguration mark is written under
 * {@code <namespace>:cooldown:<backend>} or {@code <namespace>:misconfigured:<backend>} with a
 * TTL equal to its remaining life, and announced on the channel {@code <namespace>:events}.
 * Every instance subscribes to that channel and, whenever its subscription is (re-)established,
 * reads the namespace's keys once so that an instance that joins late, or that lost Redis for a
 * while, learns the cool-downs still running.
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

	private final RedisConnectionFactory connectionFactory;

	private final ReactiveStringRedisTemplate redis;

	private final String namespace;

	private final Duration timeout;

	private final Duration misconfiguredFor;

	private final Clock clock;

	/** Tells this instance's own messages apart: they are idempotent, skipping them saves work. */
	private final String instance = UUID.randomUUID().toString();

	private final AtomicBoolean connected = new AtomicBoolean(true);

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

	/**
	 * Create a store; nothing talks to Redis before {@link #start}.
	 * @param connectionFactory a Lettuce connection factory, reactive as well as blocking
	 * @param namespace prefix of keys and channel; instances share state only within one
	 * @param timeout longest wait for any Redis command
	 * @param misconfiguredFor how long a misconfiguration mark stays in Redis for late joiners
	 * @param clock the clock cool-down deadlines are read against
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
		this.clock = Objects.requireNonNull(clock, "clock");
	}

	@Override
	public void start(Listener listener) {
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
		long remaining = until - this.clock.millis();
		if (remaining <= 0) {
			return;
		}
		String key = key(COOL_DOWN, backend);
		String message = String.join("\n", this.instance, COOL_DOWN, backend, Long.toString(until), reason);
		send(key, until + "\n" + reason, Duration.ofMillis(remaining), message);
	}

	@Override
	public void misconfigured(String backend, String reason) {
		String message = String.join("\n", this.instance, MISCONFIGURED, backend, "0", reason);
		send(key(MISCONFIGURED, backend), reason, this.misconfiguredFor, message);
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

	/** Learn the cool-downs and marks that are still in Redis, once per (re-)subscription. */
	private void readThrough(Listener listener) {
		String prefix = this.namespace + ":";
		this.redis.scan(ScanOptions.scanOptions().match(escape(prefix) + "*").count(100).build())
			.collectList()
			.flatMapMany((keys) -> keys.isEmpty() ? Flux.empty()
					: this.redis.opsForValue().multiGet(keys).flatMapIterable((values) -> pairs(keys, values)))
			.timeout(this.timeout.multipliedBy(4))
			.doOnNext((entry) -> apply(listener, entry.get(0).substring(prefix.length()), entry.get(1)))
			.then(Mono.fromRunnable(this::succeeded))
			.subscribe(null, (ex) -> failed("read", ex));
	}

	private static List<List<String>> pairs(List<String> keys, List<String> values) {
		List<List<String>> pairs = new ArrayList<>();
		for (int i = 0; i < keys.size(); i++) {
			if (values.get(i) != null) {
				pairs.add(List.of(keys.get(i), values.get(i)));
			}
		}
		return pairs;
	}

	private void apply(Listener listener, String key, String value) {
		if (key.startsWith(COOL_DOWN + ":")) {
			String[] parts = value.split("\n", 2);
			long until = parseLong(parts[0]);
			if (until > 0) {
				listener.coolingDown(key.substring(COOL_DOWN.length() + 1), until);
			}
		}
		else if (key.startsWith(MISCONFIGURED + ":")) {
			listener.misconfigured(key.substring(MISCONFIGURED.length() + 1), value);
		}
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

	private String key(String kind, String backend) {
		return this.namespace + ":" + kind + ":" + backend;
	}

	private String channel() {
		return this.namespace + ":events";
	}

	private static String escape(String pattern) {
		return pattern.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
	}

	private static long parseLong(String text) {
		try {
			return Long.parseLong(text);
		}
		catch (NumberFormatException ex) {
			return 0;
		}
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
			String[] parts = new String(message.getBody(), StandardCharsets.UTF_8).split("\n", 5);
			if (parts.length < 5 || RedisSharedState.this.instance.equals(parts[0])) {
				return;
			}
			if (COOL_DOWN.equals(parts[1])) {
				long until = parseLong(parts[3]);
				if (until > 0) {
					this.listener.coolingDown(parts[2], until);
				}
			}
			else if (MISCONFIGURED.equals(parts[1])) {
				this.listener.misconfigured(parts[2], parts[4]);
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
