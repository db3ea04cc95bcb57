package io.github.openailb.transport;

import java.time.Duration;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.ConfigurationProblems;
import io.github.openailb.core.InvalidConfigurationException;

/**
 * Immutable, validated limits of the balanced transport: how long an attempt and a whole request
 * may take, how many connections it keeps per backend, and the largest request body it holds for
 * replay. Property paths in validation errors follow {@code openai.lb.*}.
 *
 * @param connectTimeout per attempt: longest wait for a connection
 * @param responseTimeout per attempt: longest wait for the status, headers and first body byte;
 * also the longest silence inside a streamed body
 * @param maxDuration per request: longest time from the call to the last body byte, failovers,
 * waits and streaming included
 * @param maxConnections connections kept per backend
 * @param maxPendingAcquires requests that may wait for a connection per backend when all are busy
 * @param maxRequestBody the largest request body, in bytes, the balancer holds to replay
 */
public record TransportConfig(Duration connectTimeout, Duration responseTimeout, Duration maxDuration,
		int maxConnections, int maxPendingAcquires, long maxRequestBody) {

	/**
	 * Start a new builder with the documented defaults.
	 * @return a builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Builds a {@link TransportConfig}, reporting every problem with its property path.
	 */
	public static final class Builder {

		private Duration connectTimeout = Duration.ofSeconds(5);

		private Duration responseTimeout = Duration.ofSeconds(120);

		private Duration maxDuration = Duration.ofMinutes(10);

		private int maxConnections = 500;

		private int maxPendingAcquires = 1000;

		private long maxRequestBody = 64L * 1024 * 1024;

		private Builder() {
		}

		/**
		 * Set the longest wait for a connection, per attempt.
		 * @param connectTimeout the timeout
		 * @return this builder
		 */
		public Builder connectTimeout(Duration connectTimeout) {
			this.connectTimeout = connectTimeout;
			return this;
		}

		/**
		 * Set the longest wait for the status, headers and first body byte, per attempt.
		 * @param responseTimeout the timeout
		 * @return this builder
		 */
		public Builder responseTimeout(Duration responseTimeout) {
			this.responseTimeout = responseTimeout;
			return this;
		}

		/**
		 * Set the longest time one request may take, from the call to the last body byte.
		 * @param maxDuration the bound
		 * @return this builder
		 */
		public Builder maxDuration(Duration maxDuration) {
			this.maxDuration = maxDuration;
			return this;
		}

		/**
		 * Set the connections kept per backend.
		 * @param maxConnections the pool size
		 * @return this builder
		 */
		public Builder maxConnections(int maxConnections) {
			this.maxConnections = maxConnections;
			return this;
		}

		/**
		 * Set how many requests may wait for a connection per backend when all are busy.
		 * @param maxPendingAcquires the limit, at least 1
		 * @return this builder
		 */
		public Builder maxPendingAcquires(int maxPendingAcquires) {
			this.maxPendingAcquires = maxPendingAcquires;
			return this;
		}

		/**
		 * Set the largest request body the balancer holds to replay.
		 * @param bytes the size in bytes
		 * @return this builder
		 */
		public Builder maxRequestBody(long bytes) {
			this.maxRequestBody = bytes;
			return this;
		}

		/**
		 * Validate and build.
		 * @return the configuration
		 * @throws InvalidConfigurationException naming every property at fault
		 */
		public TransportConfig build() {
			ConfigurationProblems problems = new ConfigurationProblems();
			BalancerConfig.positive(problems, this.connectTimeout, "connect-timeout", "5s");
			BalancerConfig.positive(problems, this.responseTimeout, "response-timeout", "120s");
			BalancerConfig.positive(problems, this.maxDuration, "max-duration", "10m");
			if (this.maxConnections < 1) {
				problems.add(BalancerConfig.PREFIX + ".pool.max-connections",
						"must be 1 or more but was " + this.maxConnections,
						"Set it to the most connections one backend may have open at once, e.g. 500.");
			}
			if (this.maxPendingAcquires < 1) {
				problems.add(BalancerConfig.PREFIX + ".pool.max-pending-acquires",
						"must be 1 or more but was " + this.maxPendingAcquires,
						"Set it to how many requests may queue for a busy backend's connection, e.g. 1000; "
								+ "beyond it an attempt fails over at once.");
			}
			if (this.maxRequestBody < 1 || this.maxRequestBody > Integer.MAX_VALUE) {
				problems.add(BalancerConfig.PREFIX + ".max-request-body",
						"must be between 1B and 2047MB but was " + this.maxRequestBody + " bytes",
						"Set it to the largest request you send, e.g. 64MB.");
			}
			problems.throwIfAny();
			return new TransportConfig(this.connectTimeout, this.responseTimeout, this.maxDuration,
					this.maxConnections, this.maxPendingAcquires, this.maxRequestBody);
		}

	}

}
