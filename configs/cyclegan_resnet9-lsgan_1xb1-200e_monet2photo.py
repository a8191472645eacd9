# CycleGAN as in the paper on monet2photo: ResNet-9 generators, 70x70 PatchGAN,
# LSGAN, 256 px crops, batch 1 on 1 GPU, 100 + 100 epochs (linear decay).
# Data: data/monet2photo/{trainA,trainB,testA,testB}
#   python tools/download_dataset.py monet2photo
_base_ = [
    '_base_/models/cyclegan_resnet.py',
    '_base_/datasets/unpaired_256.py',
    '_base_/schedules/paper_200e.py',
    '_base_/default_runtime.py',
]

data_root = 'data/monet2photo'
train_dataloader = dict(dataset=dict(data_root=data_root))
