package io.github.openailb.benchmarks;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.Exchange;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Figure 1: what the engine costs per request. One {@code begin()}, one {@code next()} (the
 * selection) and one {@code answered(200)} (the outcome record, circuit breaker included), with
 * every backend in one tier so that selection looks at all of them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EngineBenchmark {

	@Param({ "3", "10", "100" })
	int backends;

	private LoadBalancer balancer;

	private final Map<String, String> headers = Map.of("content-type", "application/json");

	/** Build a balancer with the given number of equal backends. */
	@Setup
	public void setUp() {
		BalancerConfig.Builder config = BalancerConfig.builder();
		for (int i = 0; i < this.backends; i++) {
			config.backend(new BalancerConfig.BackendBuilder().name("backend-" + i).url("https://backend-" + i + ".example.com"));
		}
		this.balancer = LoadBalancer.builder(config.build()).build();
	}

	/**
	 * Select a backend for a new request and record its 200.
	 * @return the outcome, so that nothing is optimised away
	 */
	@Benchmark
	public Outcome selectAndRecord() {
		Exchange exchange = this.balancer.begin();
		Step.Attempt attempt = (Step.Attempt) exchange.next();
		return exchange.answered(attempt, 200, this.headers::get, null);
	}

}
