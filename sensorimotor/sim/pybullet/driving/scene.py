"""The driving world's physics: a ground plane, a track's lane edges and PyBullet's racecar.

Racecar facts (DESIGN.md 6, measured): steering hinges 4 and 6 (position control, |angle| <= 0.5
rad), rear wheels 2 and 3 driven with velocity control, front wheels 5 and 7 free (force 0);
wheelbase 0.325 m, wheel radius 0.05 m. The road and its two edge lines are flat visual-only
triangle ribbons, one body each (no collision: the car leaves the road rather than bouncing off a
wall, and the task ends the episode there). Ribbons rather than DESIGN.md 6's batch of tiles: every
body costs physics time even without a collision shape, and 600 tiles made a 20 Hz step's 12
physics steps 3.9 ms against 0.9 ms with three ribbons.

The car's own meshes are hidden (alpha 0, which TinyRenderer skips) except while the top-down view is
drawn: the front camera sits ahead of the car looking forward and down and never sees it, and drawing
its ~9 meshes anyway cost 1.7 of a 66x200 frame's 5.0 ms (the frames are the same to the bit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensorimotor.sim.pybullet import client as bullet
from sensorimotor.sim.pybullet.driving.track import Track

STEERING_JOINTS = (4, 6)
DRIVEN_WHEELS = (2, 3)
FREE_WHEELS = (5, 7)
MAX_STEERING = 0.5  # rad, the hinges' usable range
WHEELBASE = 0.325  # m, rear axle to front axle
WHEEL_RADIUS = 0.05  # m
BASE_HEIGHT = 0.05  # m, the chassis origin above the ground when placed


@dataclass(frozen=True)
class CarPhysics:
    """Simulation settings of the car.

    Attributes:
        physics_hz: physics steps per second.
        control_hz: actions per second (PilotNet's 20 Hz would be 12 physics steps per action).
        drive_force: torque limit of the driven wheels (N m).
        steering_force: force limit of the steering servos.
    """

    physics_hz: int = 240
    control_hz: int = 20
    drive_force: float = 10.0
    steering_force: float = 20.0

    @property
    def steps_per_action(self) -> int:
        return max(1, self.physics_hz // self.control_hz)


@dataclass(frozen=True)
class MountedCamera:
    """A camera fixed to the car, looking forward.

    Attributes:
        forward: ahead of the chassis origin (m).
        height: above the ground (m).
        pitch: down from horizontal (degrees, positive looks down).
        fov: vertical field of view (degrees).
        width, height_px: image size (pixels); PilotNet's is 200 x 66.
    """

    forward: float = 0.25
    height: float = 0.3
    pitch: float = 20.0
    fov: float = 45.0
    width: int = 200
    height_px: int = 66


class DriveScene:
    """One PyBullet client holding the ground, one track's edges and the car."""

    def __init__(self, physics: CarPhysics = CarPhysics()):
        self.physics = physics
        self.client = bullet.connect(time_step=1.0 / physics.physics_hz, solver_iterations=50)
        self.p = bullet.import_pybullet()
        self.car = self.ground = -1
        self._projection: dict[tuple, list] = {}

    def build(self, track: Track, ground_rgba, road_rgba, line_rgba, line_width: float = 0.06) -> None:
        """A fresh world: ground, the road surface and its edge lines as ribbons, the car at the origin."""
        p, c = self.p, self.client
        p.resetSimulation(physicsClientId=c)
        bullet.configure(c, 1.0 / self.physics.physics_hz, 50)
        self.ground = p.loadURDF(bullet.asset("plane.urdf"), physicsClientId=c)
        p.changeVisualShape(self.ground, -1, rgbaColor=list(ground_rgba), textureUniqueId=-1, physicsClientId=c)
        self._ribbon(track.points, track.normal, track.width / 2, 0.001, road_rgba)
        for side in (1.0, -1.0):
            self._ribbon(track.points + side * track.width / 2 * track.normal, track.normal, line_width / 2, 0.002,
                         line_rgba)
        self.car = p.loadURDF(bullet.asset("racecar/racecar.urdf"), [0, 0, BASE_HEIGHT], physicsClientId=c)
        for wheel in FREE_WHEELS:
            p.setJointMotorControl2(self.car, wheel, p.VELOCITY_CONTROL, targetVelocity=0, force=0, physicsClientId=c)
        self._car_colours = {shape[1]: list(shape[7]) for shape in p.getVisualShapeData(self.car, physicsClientId=c)}
        self.show_car(False)

    def show_car(self, visible: bool) -> None:
        """Draw the car's meshes in camera images (True) or skip them (False, the default after ``build``)."""
        for link, rgba in self._car_colours.items():
            colour = rgba if visible else [*rgba[:3], 0.0]
            self.p.changeVisualShape(self.car, link, rgbaColor=colour, physicsClientId=self.client)

    def _ribbon(self, centre: np.ndarray, normal: np.ndarray, half_width: float, z: float, rgba,
                every: int = 4) -> int:
        """A closed flat strip ``half_width`` either side of the loop ``centre [M, 2]`` (one body)."""
        p = self.p
        c, n = centre[::every], normal[::every]
        m = len(c)
        vertices = np.zeros((2 * m, 3))
        vertices[0::2, :2] = c + half_width * n
        vertices[1::2, :2] = c - half_width * n
        vertices[:, 2] = z
        i = 2 * np.arange(m)
        j = (i + 2) % (2 * m)
        # Two triangles per quad (left_i, right_i, left_i+1, right_i+1), wound to face up.
        indices = np.column_stack([i, i + 1, j, i + 1, j + 1, j]).ravel().tolist()
        shape = p.createVisualShape(p.GEOM_MESH, vertices=vertices.tolist(), indices=indices, rgbaColor=list(rgba),
                                    physicsClientId=self.client)
        return p.createMultiBody(baseMass=0, baseCollisionShapeIndex=-1, baseVisualShapeIndex=shape,
                                 physicsClientId=self.client)

    def place_car(self, xy, yaw: float) -> None:
        """Put the car at rest at ``xy`` (m) heading ``yaw`` (rad), wheels straight."""
        p, c = self.p, self.client
        p.resetBasePositionAndOrientation(self.car, [float(xy[0]), float(xy[1]), BASE_HEIGHT],
                                          p.getQuaternionFromEuler([0, 0, yaw]), physicsClientId=c)
        p.resetBaseVelocity(self.car, [0, 0, 0], [0, 0, 0], physicsClientId=c)
        for joint in (*STEERING_JOINTS, *DRIVEN_WHEELS, *FREE_WHEELS):
            p.resetJointState(self.car, joint, 0.0, 0.0, physicsClientId=c)

    def drive(self, steering: float, speed: float) -> None:
        """Hold ``steering`` (rad, clipped to +-0.5) and ``speed`` (m/s of the rear wheels) for one
        control period."""
        p, c, ph = self.p, self.client, self.physics
        steering = float(np.clip(steering, -MAX_STEERING, MAX_STEERING))
        for wheel in DRIVEN_WHEELS:
            p.setJointMotorControl2(self.car, wheel, p.VELOCITY_CONTROL, targetVelocity=speed / WHEEL_RADIUS,
                                    force=ph.drive_force, physicsClientId=c)
        for hinge in STEERING_JOINTS:
            p.setJointMotorControl2(self.car, hinge, p.POSITION_CONTROL, targetPosition=steering,
                                    force=ph.steering_force, physicsClientId=c)
        for _ in range(ph.steps_per_action):
            p.stepSimulation(physicsClientId=c)

    def car_pose(self) -> tuple[np.ndarray, float]:
        """``(position [3] m, yaw rad)`` of the chassis."""
        position, orientation = self.p.getBasePositionAndOrientation(self.car, physicsClientId=self.client)
        return np.asarray(position), float(self.p.getEulerFromQuaternion(orientation)[2])

    def car_speed(self) -> float:
        """Horizontal speed of the chassis (m/s)."""
        velocity, _ = self.p.getBaseVelocity(self.car, physicsClientId=self.client)
        return float(math.hypot(velocity[0], velocity[1]))

    def render(self, camera: MountedCamera, xy, yaw: float, light=None) -> np.ndarray:
        """RGB ``[H, W, 3]`` uint8 from ``camera`` mounted on a car at ``xy`` heading ``yaw`` (which need
        not be the car's pose: shifted views for augmentation)."""
        p = self.p
        forward = np.array([math.cos(yaw), math.sin(yaw)])
        eye = [xy[0] + camera.forward * forward[0], xy[1] + camera.forward * forward[1], camera.height]
        pitch = math.radians(camera.pitch)
        look = [eye[0] + math.cos(pitch) * forward[0], eye[1] + math.cos(pitch) * forward[1],
                eye[2] - math.sin(pitch)]
        view = p.computeViewMatrix(eye, look, [0, 0, 1])
        key = (camera.fov, camera.width, camera.height_px)
        if key not in self._projection:
            self._projection[key] = p.computeProjectionMatrixFOV(camera.fov, camera.width / camera.height_px, 0.02, 30.0)
        extra = {} if light is None else {"lightDirection": list(light)}
        _, _, rgba, _, _ = p.getCameraImage(camera.width, camera.height_px, view, self._projection[key], shadow=0,
                                            renderer=p.ER_TINY_RENDERER, flags=p.ER_NO_SEGMENTATION_MASK,
                                            physicsClientId=self.client, **extra)
        return np.asarray(rgba, dtype=np.uint8).reshape(camera.height_px, camera.width, 4)[:, :, :3]

    def render_top_down(self, centre_xy, size: int, span: float) -> np.ndarray:
        """A ``[size, size, 3]`` view from above ``centre_xy`` covering ``span`` metres (videos)."""
        p = self.p
        view = p.computeViewMatrix([centre_xy[0], centre_xy[1], span], [centre_xy[0], centre_xy[1], 0], [0, 1, 0])
        projection = p.computeProjectionMatrixFOV(2 * math.degrees(math.atan(0.5)), 1.0, 0.1, 2 * span)
        self.show_car(True)
        try:
            _, _, rgba, _, _ = p.getCameraImage(size, size, view, projection, shadow=0, renderer=p.ER_TINY_RENDERER,
                                                flags=p.ER_NO_SEGMENTATION_MASK, physicsClientId=self.client)
        finally:
            self.show_car(False)
        return np.asarray(rgba, dtype=np.uint8).reshape(size, size, 4)[:, :, :3]

    def close(self) -> None:
        bullet.disconnect(self.client)
