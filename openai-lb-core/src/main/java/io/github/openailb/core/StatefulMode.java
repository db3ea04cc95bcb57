package io.github.openailb.core;

/**
 * Where requests tied to server-side state go (files, batches, assistants, stored responses, see
 * {@link StatefulRequests}).
 */
public enum StatefulMode {

	/**
	 * All to one home backend, never elsewhere: an object created on one backend is unknown to
	 * the others. When the home backend cannot take such a request, the caller is told so at once.
	 */
	HOME,

	/**
	 * Balanced like every other request: only for backends that share their stored objects, or
	 * applications that never use them.
	 */
	BALANCED

}
