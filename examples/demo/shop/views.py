from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from .models import Order
from .tasks import resize_image, send_receipt


def checkout(request, order_id):
    order = get_object_or_404(Order, pk=order_id)
    send_receipt.delay(order)
    return HttpResponse("thanks")


def upload(request):
    resize_image.delay(request.FILES["image"].read())
    return HttpResponse("uploaded")
