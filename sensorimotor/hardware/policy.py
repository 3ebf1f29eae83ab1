"""An exported policy run with onnxruntime: what the deploy side needs, without torch.

``OnnxPolicy(export_dir)`` reads ``manifest.json`` and ``policy.onnx`` and maps one observation to one
action, carrying the graph's state between calls (a recurrent memory or a frame stack; zeros after
:meth:`reset`).
"""

from __future__ import annotations

import json
import os

import numpy as np


class PolicyLoadError(ValueError):
    """The export folder is missing a file or does not match what the deploy side expects."""


class OnnxPolicy:
    """Args:
        export_dir: the ``export/`` folder written by ``sensorimotor export`` (or a manifest's folder).
        threads: onnxruntime intra-op threads (1 keeps the control loop's core to itself).
    """

    def __init__(self, export_dir: str, threads: int = 1):
        manifest_path = os.path.join(export_dir, "manifest.json")
        if not os.path.isfile(manifest_path):
            raise PolicyLoadError(f"{export_dir} has no manifest.json: run `sensorimotor export RUN_DIR` first")
        self.manifest = json.load(open(manifest_path))
        onnx_file = self.manifest.get("files", {}).get("onnx")
        if not onnx_file:
            raise PolicyLoadError(f"{export_dir}: the export has no ONNX file; export again with --formats onnx")
        try:
            import onnxruntime as ort
        except ImportError:
            raise PolicyLoadError("deploying needs onnxruntime: pip install -e '.[hardware]'") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(os.path.join(export_dir, onnx_file), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types on a corrupt file
            raise PolicyLoadError(f"{export_dir}/{onnx_file} does not load: {str(exc).splitlines()[0]}") from None
        obs = self.manifest["inputs"]["obs"]
        self.obs_parts = {k: (part["input"], tuple(part["shape"][1:]), np.dtype(part["dtype"]))
                          for k, part in obs.get("parts", {}).items()}
        """``{key: (graph input, shape, dtype)}`` of a policy over a ``Dict`` observation (camera + state),
        which takes a dict of arrays; empty for single-array policies."""
        self.obs_shape = tuple(obs["shape"][1:]) if not self.obs_parts else ()
        self.obs_dtype = np.dtype(obs["dtype"]) if not self.obs_parts else None
        self.camera_input = obs.get("layout") == "camera_hwc"
        """True when the graph takes raw camera frames ``[H, W, 3]`` and converts them itself."""
        self.stateful = "state" in self.manifest["inputs"]
        """True when the graph carries a state between calls (a recurrent core or a frame stack)."""
        self.state_shape = tuple(self.manifest["inputs"]["state"]["shape"][1:]) if self.stateful else (0,)
        self.action_layout = self.manifest["outputs"]["action"]
        self.spec_hash = self.manifest.get("robot_spec_hash")
        self.reset()

    def reset(self) -> None:
        """Start of an episode: the state (memory or earlier frames) goes back to zeros."""
        self.state = np.zeros((1, *self.state_shape), dtype=np.float32)

    def __call__(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """``obs`` of the manifest's shape (no batch axis; a dict of parts for a ``Dict`` policy) -> the
        action ``[A]`` (or a scalar index)."""
        if self.obs_parts:
            return self._call_parts(obs)
        obs = np.asarray(obs)
        if obs.shape != self.obs_shape:
            if len(self.obs_shape) != 1 or obs.size != self.obs_shape[0]:
                raise PolicyLoadError(f"observation shape {list(obs.shape)} does not fit the policy's "
                                      f"{list(self.obs_shape)}: wrong robot or wrong camera settings")
            obs = obs.reshape(self.obs_shape)
        feed = {"obs": obs.astype(self.obs_dtype, copy=False)[None]}
        if self.stateful:
            feed["state"] = self.state
            action, self.state = self.session.run(["action", "next_state"], feed)
        else:
            (action,) = self.session.run(["action"], feed)
        return action[0]

    def _call_parts(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        if not isinstance(obs, dict) or set(obs) < set(self.obs_parts):
            have = sorted(obs) if isinstance(obs, dict) else type(obs).__name__
            raise PolicyLoadError(f"the policy reads the observation parts {sorted(self.obs_parts)}, got {have}")
        feed = {}
        for key, (name, shape, dtype) in self.obs_parts.items():
            value = np.asarray(obs[key])
            if value.shape != shape:
                raise PolicyLoadError(f"observation part {key!r} is {list(value.shape)}, the policy's {list(shape)}: "
                                      "wrong robot or wrong camera settings")
            feed[name] = value.astype(dtype, copy=False)[None]
        (action,) = self.session.run(["action"], feed)
        return action[0]
