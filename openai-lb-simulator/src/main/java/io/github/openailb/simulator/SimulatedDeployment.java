package io.github.openailb.simulator;

/**
 * One deployment of a simulated instance: its name there and its own budget, as Azure assigns
 * quota per deployment.
 */
public class SimulatedDeployment {

	/**
	 * Name of the deployment on its instance, as it appears in
	 * {@code /openai/deployments/{name}/...}.
	 */
	private String name;

	/**
	 * Requests accepted per sliding minute before answering 429; 0 takes the instance's.
	 */
	private int requestsPerMinute;

	public SimulatedDeployment() {
	}

	public SimulatedDeployment(String name, int requestsPerMinute) {
		this.name = name;
		this.requestsPerMinute = requestsPerMinute;
	}

	public String getName() {
		return this.name;
	}

	public void setName(String name) {
		this.name = name;
	}

	public int getRequestsPerMinute() {
		return this.requestsPerMinute;
	}

	public void setRequestsPerMinute(int requestsPerMinute) {
		this.requestsPerMinute = requestsPerMinute;
	}

}
