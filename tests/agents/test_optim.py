import torch

from sensorimotor.agents.optim import adam_init, adam_step, clip_and_adam_, clip_grad_norm


def test_first_adam_step_moves_each_weight_by_lr_against_its_gradient_sign():
    # After one bias-corrected step m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps).
    params = {"w": torch.tensor([1.0, -2.0, 3.0])}
    grads = {"w": torch.tensor([0.5, -4.0, 0.0])}
    new, state = adam_step(params, grads, adam_init(params), torch.tensor(0.1), eps=0.0 + 1e-12)
    assert torch.allclose(new["w"], torch.tensor([0.9, -1.9, 3.0]))
    assert state["step"].item() == 1


def test_matches_torch_adam_over_several_steps():
    torch.manual_seed(0)
    w = torch.randn(5, requires_grad=True)
    reference = torch.optim.Adam([w], lr=0.01, eps=1e-5)
    params = {"w": w.detach().clone()}
    state = adam_init(params)
    for _ in range(5):
        g = torch.randn(5)
        w.grad = g.clone()
        reference.step()
        params, state = adam_step(params, {"w": g}, state, torch.tensor(0.01), eps=1e-5)
    assert torch.allclose(params["w"], w.detach(), atol=1e-6)


def test_clip_grad_norm_scales_to_max_norm():
    grads = {"a": torch.tensor([3.0]), "b": torch.tensor([4.0])}  # joint norm 5
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert abs(norm.item() - 5.0) < 1e-6
    assert torch.allclose(clipped["a"], torch.tensor([0.6]), atol=1e-5)
    small, _ = clip_grad_norm(grads, 10.0)
    assert torch.allclose(small["b"], torch.tensor([4.0]))


def test_in_place_clip_and_adam_equals_the_functional_pair():
    torch.manual_seed(0)
    params = {"a": torch.randn(3, 2), "b": torch.randn(4)}
    state = adam_init(params)
    live = {k: v.clone() for k, v in params.items()}
    live_state = adam_init(live)
    for scale in (10.0, 0.01, 3.0):  # clipped, not clipped, clipped
        grads = {k: scale * torch.randn_like(v) for k, v in params.items()}
        clipped, norm = clip_grad_norm(grads, 1.0)
        params, state = adam_step(params, clipped, state, torch.tensor(0.01), eps=1e-5)
        in_place_norm = clip_and_adam_(list(live.values()), [g.clone() for g in grads.values()], live_state,
                                       list(live), torch.tensor(0.01), 1.0, eps=1e-5)
        torch.testing.assert_close(in_place_norm, norm)
    for k in params:
        torch.testing.assert_close(live[k], params[k])
        torch.testing.assert_close(live_state["m"][k], state["m"][k])
        torch.testing.assert_close(live_state["v"][k], state["v"][k])
    assert live_state["step"].item() == state["step"].item() == 3
