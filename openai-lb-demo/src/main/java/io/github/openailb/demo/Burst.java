package io.github.openailb.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Deployment;
import io.github.openailb.core.LoadBalancer;

import org.springframework.stereotype.Component;

/**
 * Fires many chat (and, if asked, embeddings) calls at once and reports where they went and how
 * they ended.
 */
@Component
class Burst {

	private final Chat chat;

	private final Embeddings embeddings;

	private final LoadBalancer balancer;

	private final BalancerActivity activity;

	Burst(Chat chat, Embeddings embeddings, LoadBalancer balancer, BalancerActivity activity) {
		this.chat = chat;
		this.embeddings = embeddings;
		this.balancer = balancer;
		this.activity = activity;
	}

	/**
	 * Fire the calls.
	 * @param count calls to fire
	 * @param concurrency calls in flight at once
	 * @param embeddingShare percentage (0-100) of the calls that embed instead of chatting,
	 * spread evenly over the burst
	 */
	Report fire(int count, int concurrency, int embeddingShare) {
		Map<String, Long> before = successes();
		Map<String, Long> deploymentsBefore = deploymentSuccesses();
		AtomicInteger answered = new AtomicInteger();
		AtomicInteger throttled = new AtomicInteger();
		AtomicInteger failed = new AtomicInteger();
		int embedded = 0;
		long start = System.nanoTime();
		ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, concurrency));
		try {
			List<Future<?>> calls = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				int n = i;
				// the i-th call embeds when the running share of embeddings steps up here
				boolean embed = (i + 1) * embeddingShare / 100 > i * embeddingShare / 100;
				embedded += embed ? 1 : 0;
				calls.add(pool.submit(() -> {
					try {
						if (embed) {
							this.embeddings.embed("Burst text #" + (n + 1));
						}
						else {
							this.chat.call("Burst call #" + (n + 1));
						}
						answered.incrementAndGet();
					}
					catch (ChatThrottledException ex) {
						throttled.incrementAndGet();
					}
					catch (RuntimeException ex) {
						failed.incrementAndGet();
					}
				}));
			}
			for (Future<?> call : calls) {
				call.get();
			}
		}
		catch (Exception ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			pool.shutdownNow();
		}
		Map<String, Long> servedBy = new LinkedHashMap<>();
		successes().forEach((name, total) -> servedBy.put(name, total - before.getOrDefault(name, 0L)));
		Map<String, Long> servedByDeployment = new LinkedHashMap<>();
		deploymentSuccesses().forEach((name, total) -> servedByDeployment.put(name,
				total - deploymentsBefore.getOrDefault(name, 0L)));
		return new Report(count, embedded, answered.get(), throttled.get(), failed.get(), servedBy, servedByDeployment,
				(System.nanoTime() - start) / 1_000_000);
	}

	/** Answers per deployment, as "backend model". */
	private Map<String, Long> deploymentSuccesses() {
		Map<String, Long> successes = new LinkedHashMap<>();
		for (Backend backend : this.balancer.backends()) {
			for (Deployment deployment : backend.deployments()) {
				successes.put(backend.name() + " " + deployment.model(),
						this.activity.answered(backend.name(), deployment.model()));
			}
		}
		return successes;
	}

	private Map<String, Long> successes() {
		Map<String, Long> successes = new LinkedHashMap<>();
		for (Backend backend : this.balancer.backends()) {
			successes.put(backend.name(), backend.counts().successes());
		}
		return successes;
	}

	/**
	 * What a burst did.
	 *
	 * @param calls calls fired
	 * @param embeddings how many of them were embeddings calls
	 * @param answered calls that got a reply
	 * @param throttled calls refused with 429 because every backend was throttled
	 * @param failed calls that failed otherwise
	 * @param servedBy replies per backend
	 * @param servedByDeployment replies per deployment, keyed "backend model"
	 * @param millis how long the burst took
	 */
	record Report(int calls, int embeddings, int answered, int throttled, int failed, Map<String, Long> servedBy,
			Map<String, Long> servedByDeployment, long millis) {
	}

}
