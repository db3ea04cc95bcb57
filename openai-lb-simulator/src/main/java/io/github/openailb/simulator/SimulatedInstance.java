package io.github.openailb.simulator;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How one simulated instance behaves: its port, budget, latency and failures.
 */
public class SimulatedInstance {

	/**
	 * Loopback port to listen on; 0 picks a free one at start-up.
	 */
	private int port;

	/**
	 * Balancer priority tier of this instance.
	 */
	private int priority = 1;

	/**
	 * Balancer weight of this instance within its tier.
	 */
	private int weight = 1;

	/**
	 * Requests accepted per sliding minute before answering 429 with Retry-After.
	 */
	private int requestsPerMinute = 600;

	/**
	 * Time taken to answer (and between two streamed chunks).
	 */
	private Duration latency = Duration.ofMillis(200);

	/**
	 * Share of requests answered with a 500, from 0 to 1.
	 */
	private double errorRate;

	/**
	 * Share of requests left unanswered for longer than the balancer waits, from 0 to 1.
	 */
	private double timeoutRate;

	/**
	 * How long an unanswered request hangs before the connection is dropped.
	 */
	private Duration hang = Duration.ofSeconds(30);

	/**
	 * Deployments by the model the application asks for, each with its own budget; empty: any
	 * deployment name is served, within the instance's one budget.
	 */
	private Map<String, SimulatedDeployment> deployments = new LinkedHashMap<>();

	public int getPort() {
		return this.port;
	}

	public void setPort(int port) {
		this.port = port;
	}

	public int getPriority() {
		return this.priority;
	}

	public void setPriority(int priority) {
		this.priority = priority;
	}

	public int getWeight() {
		return this.weight;
	}

	public void setWeight(int weight) {
		this.weight = weight;
	}

	public int getRequestsPerMinute() {
		return this.requestsPerMinute;
	}

	public void setRequestsPerMinute(int requestsPerMinute) {
		this.requestsPerMinute = requestsPerMinute;
	}

	public Duration getLatency() {
		return this.latency;
	}

	public void setLatency(Duration latency) {
		this.latency = latency;
	}

	public double getErrorRate() {
		return this.errorRate;
	}

	public void setErrorRate(double errorRate) {
		this.errorRate = errorRate;
	}

	public double getTimeoutRate() {
		return this.timeoutRate;
	}

	public void setTimeoutRate(double timeoutRate) {
		this.timeoutRate = timeoutRate;
	}

	public Duration getHang() {
		return this.hang;
	}

	public void setHang(Duration hang) {
		this.hang = hang;
	}

	public Map<String, SimulatedDeployment> getDeployments() {
		return this.deployments;
	}

	public void setDeployments(Map<String, SimulatedDeployment> deployments) {
		this.deployments = deployments;
	}

}
