"""all_reduce, the one operation DDP needs, shown with N processes on the CPU (gloo).

    torchrun --standalone --nproc_per_node 2 tools/all_reduce_demo.py

First a tensor of two numbers per process, added up by all_reduce: afterwards every process holds
the sum. Then what DDP does with it: each process computes the gradient of the same small linear
model on its own share of one batch; all_reduce adds the shares' gradients up, in every process,
and divided by N they are the gradient of the whole batch, which rank 0 checks by computing it in
one go. Rank 0 prints what every rank holds (all_gather brings it over).
"""

import torch
import torch.distributed as dist
from torch.nn import functional as F

dist.init_process_group("gloo")  # torchrun has told each process its RANK and the WORLD_SIZE
rank, world_size = dist.get_rank(), dist.get_world_size()


def show(label, tensor):
    """Every rank's `tensor`, printed by rank 0. Every rank must call it: all_gather waits for all."""
    tensors = [torch.empty_like(tensor) for _ in range(world_size)]
    dist.all_gather(tensors, tensor)  # tensors[r]: rank r's
    if rank == 0:
        for r, held in enumerate(tensors):
            print(f"{label:34} rank {r}: {[round(v, 4) for v in held.tolist()]}")


# 1. all_reduce: every rank gives a tensor; every rank gets back the sum of them all.
numbers = torch.tensor([rank + 1.0, 10.0 * (rank + 1)])  # (2,): each rank's own
show("before all_reduce", numbers)
dist.all_reduce(numbers)  # in place; the default operation is SUM
show("after all_reduce: the sum", numbers)

# 2. What DDP does in each backward: the same model, each rank a share of one batch.
torch.manual_seed(0)  # the same on every rank: the same model, the same batch
model = torch.nn.Linear(3, 1)
x, y = torch.randn(4 * world_size, 3), torch.randn(4 * world_size, 1)  # (4N, 3), (4N, 1): the batch
share_x, share_y = x.chunk(world_size)[rank], y.chunk(world_size)[rank]  # (4, 3), (4, 1): ours
F.mse_loss(model(share_x), share_y).backward()  # the mean loss of our share, its gradient
grad = model.weight.grad.flatten()  # (3,)
show("gradient of its share", grad)
dist.all_reduce(grad)
grad /= world_size  # the mean of the N shares' gradients, in every rank
show("averaged over the ranks", grad)
if rank == 0:
    model.zero_grad()
    F.mse_loss(model(x), y).backward()  # one process, the whole batch
    whole = model.weight.grad.flatten()
    print(f"{'the whole batch in one process':34}         {[round(v, 4) for v in whole.tolist()]}")
    print(f"largest difference: {(whole - grad).abs().max().item():.1e}")
dist.destroy_process_group()
