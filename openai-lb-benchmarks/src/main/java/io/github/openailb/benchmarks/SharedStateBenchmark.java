package io.github.openailb.benchmarks;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.Exchange;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.SharedState;
import io.github.openailb.core.Step;
import io.github.openailb.redis.RedisSharedState;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * What sharing state through Redis adds to the engine, against {@code local}: per ordinary
 * request (nothing is published) and per request that starts a cool-down (published in the
 * background). Needs a {@code redis-server} binary; it starts its own on a free loopback port.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SharedStateBenchmark {

	@Param({ "local", "redis" })
	String store;

	private final TickingClock clock = new TickingClock();

	private final Map<String, String> throttled = Map.of("retry-after-ms", "1");

	private LoadBalancer balancer;

	private Process redis;

	private LettuceConnectionFactory connections;

	private RedisSharedState shared;

	/** Build three backends sharing state through the chosen store. */
	@Setup(Level.Trial)
	public void setUp() throws Exception {
		SharedState state = SharedState.LOCAL;
		if ("redis".equals(this.store)) {
			int port = freePort();
			this.redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
					"--save", "", "--appendonly", "no")
				.redirectOutput(new File("/dev/null"))
				.redirectErrorStream(true)
				.start();
			awaitListening(port);
			this.connections = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
			this.connections.afterPropertiesSet();
			this.connections.start();
			this.shared = new RedisSharedState(this.connections, "bench", Duration.ofMillis(500), Duration.ofMinutes(5),
					this.clock);
			state = this.shared;
		}
		BalancerConfig.Builder config = BalancerConfig.builder();
		for (int i = 0; i < 3; i++) {
			config.backend(new BalancerConfig.BackendBuilder().name("backend-" + i).url("https://backend-" + i + ".example.com"));
		}
		this.balancer = LoadBalancer.builder(config.build())
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker)
			.sharedState(state)
			.build();
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		if (this.shared != null) {
			this.shared.stop();
			this.connections.destroy();
			this.redis.destroy();
		}
	}

	/**
	 * An ordinary request: select, answer 200. Nothing is shared.
	 * @return the outcome
	 */
	@Benchmark
	public Outcome answered() {
		this.clock.tick();
		Exchange exchange = this.balancer.begin();
		return exchange.answered((Step.Attempt) exchange.next(), 200, (name) -> null, null);
	}

	/**
	 * A request whose backend answers 429: the cool-down is started and shared.
	 * @return the outcome
	 */
	@Benchmark
	public Outcome throttled() {
		this.clock.tick();
		Exchange exchange = this.balancer.begin();
		return exchange.answered((Step.Attempt) exchange.next(), 429, this.throttled::get, null);
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	private static void awaitListening(int port) throws InterruptedException {
		for (int i = 0; i < 200; i++) {
			try (Socket socket = new Socket("127.0.0.1", port)) {
				return;
			}
			catch (IOException ex) {
				Thread.sleep(25);
			}
		}
		throw new IllegalStateException("redis-server did not start on port " + port);
	}

	/** Moves 2 ms per request, so a 1 ms cool-down is always over by the next one. */
	static final class TickingClock extends Clock {

		private final AtomicLong millis = new AtomicLong(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());

		void tick() {
			this.millis.addAndGet(2);
		}

		@Override
		public long millis() {
			return this.millis.get();
		}

		@Override
		public Instant instant() {
			return Instant.ofEpochMilli(this.millis.get());
		}

		@Override
		public ZoneId getZone() {
			return ZoneOffset.UTC;
		}

		@Override
		public Clock withZone(ZoneId zone) {
			return this;
		}

	}

}
