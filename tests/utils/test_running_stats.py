import torch

from sensorimotor.utils.running_stats import RunningMeanStd


def test_merged_batches_equal_whole_data_statistics():
    torch.manual_seed(0)
    data = torch.randn(1000, 3) * torch.tensor([1.0, 5.0, 0.1]) + 2
    stats = RunningMeanStd((3,))
    for chunk in data.split(77):
        stats.update(chunk)
    assert torch.allclose(stats.mean.float(), data.mean(0), atol=1e-3)
    assert torch.allclose(stats.var.float(), data.var(0, unbiased=False), rtol=1e-3)


def test_by_hand():
    stats = RunningMeanStd(())
    stats.update(torch.tensor([1.0, 3.0]))
    stats.update(torch.tensor([5.0]))  # all: 1, 3, 5 -> mean 3, var 8/3 (the 1e-4 prior count barely moves it)
    assert abs(stats.mean.item() - 3.0) < 1e-3
    assert abs(stats.var.item() - 8 / 3) < 1e-3
